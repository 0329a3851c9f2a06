import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import * as A from 'apache-arrow';
import { align64 } from '../src/ipc-stream.js';
import { Pieces, streamPieces } from '../src/serialize.js';

const dictionary = new A.Dictionary(new A.Utf8(), new A.Int32());
const table = () =>
  new A.Table({
    x: A.vectorFromArray(Float64Array.from({ length: 1000 }, (_, i) => i / 3)),
    s: A.vectorFromArray(Array.from({ length: 1000 }, (_, i) => (i % 7 ? `row ${i}` : null)), new A.Utf8()),
    d: A.vectorFromArray(['a', 'b', null, 'a'].flatMap((v) => Array(250).fill(v)), dictionary),
  }).concat(new A.Table({ x: A.vectorFromArray(Float64Array.of(1, 2)), s: A.vectorFromArray(['p', 'q'], new A.Utf8()), d: A.vectorFromArray(['b', 'c'], dictionary) }));

function written(plan: ReturnType<typeof align64>): Uint8Array {
  const out = new Uint8Array(plan.byteLength);
  plan.writeTo(out);
  return out;
}

describe('serializing a table in pieces', () => {
  it('writes the same bytes as aligning the joined tableToIPC stream', () => {
    const t = table();
    const joined = written(align64(A.tableToIPC(t, 'stream')));
    const pieces = written(align64(streamPieces(t)));
    expect(Buffer.from(pieces).equals(Buffer.from(joined))).toBe(true);
    expect(A.tableFromIPC(pieces).toArray().map((r) => r.toJSON())).toEqual(t.toArray().map((r) => r.toJSON()));
  });

  it('keeps the column buffers as they are (views, not copies), so the block write is the only copy', () => {
    const t = table();
    const values = t.getChild('x')!.data[0]!.values as Float64Array;
    const pieces = streamPieces(t);
    const probe = new Uint8Array(pieces.byteLength);
    pieces.copyTo(probe, 0, 0, pieces.byteLength);
    // the piece that carries column x of batch 0 is the Float64Array's own memory
    values[0] = 12345.5;
    const after = new Uint8Array(pieces.byteLength);
    pieces.copyTo(after, 0, 0, pieces.byteLength);
    expect(Buffer.from(after).equals(Buffer.from(probe))).toBe(false);
  });

  it('reads and copies any range across piece boundaries exactly as from the joined bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 12 }), fc.nat(), fc.nat(), (bytes, cuts, a, b) => {
      const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
      const parts: Uint8Array[] = [];
      let prev = 0;
      for (const p of [...points, bytes.length]) {
        parts.push(bytes.subarray(prev, p)); // empty pieces included
        prev = p;
      }
      const src = new Pieces(parts);
      expect(src.byteLength).toBe(bytes.length);
      const from = a % bytes.length;
      const length = b % (bytes.length - from + 1);
      expect([...src.read(from, length)]).toEqual([...bytes.subarray(from, from + length)]);
      const target = new Uint8Array(length + 3);
      src.copyTo(target, 3, from, length);
      expect([...target.subarray(3)]).toEqual([...bytes.subarray(from, from + length)]);
    }), { numRuns: 2000 });
    expect(() => new Pieces([new Uint8Array(4)]).copyTo(new Uint8Array(8), 0, 2, 3)).toThrow(RangeError);
  });
});
