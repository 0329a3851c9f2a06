import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { python, runPython } from '@shmbridge/testkit';
import { MarshalWriter, readMarshal } from '../src/marshal.js';

/** Writes a JS value the way the worker's argument writer does, for the codec alone. */
function write(w: MarshalWriter, v: unknown): void {
  if (v === null) return w.byte(0x4e);
  if (typeof v === 'boolean') return w.byte(v ? 0x54 : 0x46);
  if (typeof v === 'bigint') return w.bigint(v);
  if (typeof v === 'number') return Number.isSafeInteger(v) && !Object.is(v, -0) ? w.int(v) : w.float(v);
  if (typeof v === 'string') return w.str(v);
  if (v instanceof Uint8Array) return w.bytes(v);
  if (Array.isArray(v)) {
    w.list(v.length);
    for (const x of v) write(w, x);
    return;
  }
  w.byte(0x7b);
  for (const [k, x] of Object.entries(v as object)) {
    w.str(k);
    write(w, x);
  }
  w.byte(0x30);
}

function encode(v: unknown): Buffer {
  const w = new MarshalWriter(8);
  write(w, v);
  return w.buf.subarray(0, w.pos);
}

const interpreters = [python(8), python(13)];

// JSON-like values, with ints past 2^53 and non-finite floats
const value = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.constant(null), fc.boolean(), fc.integer(), fc.maxSafeInteger(), fc.double(), fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }),
    fc.string({ unit: 'grapheme' }), fc.uint8Array({ maxLength: 20 }),
  ),
  node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 })),
})).node;

describe.each(interpreters.map((p) => [p.label, p] as const))('marshal codec against CPython %s', (_label, interp) => {
  it("writes exactly the bytes marshal.dumps(value, 2) writes, and reads them back", async () => {
    const samples = fc.sample(value, { numRuns: 200, seed: 12 });
    const ours = samples.map((v) => encode(v).toString('hex'));
    // CPython loads our bytes, dumps them again: they must come out identical (a byte-exact fixed point).
    const r = await runPython(interp, `
import marshal, sys, json
hexes = json.loads(sys.argv[1])
print(json.dumps([marshal.dumps(marshal.loads(bytes.fromhex(h)), 2).hex() for h in hexes]))
`, { args: [JSON.stringify(ours)] });
    expect(JSON.parse(r.stdout)).toEqual(ours);
    for (const [i, v] of samples.entries()) {
      const bytes = Buffer.from(ours[i]!, 'hex');
      const back = readMarshal(bytes, 0, bytes.length);
      expect(back).toEqual(typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : normalise(v));
    }
  });

  it('reads what CPython writes (tuples too, which Node never writes but as references), and refuses back-references', async () => {
    const r = await runPython(interp, `
import marshal
for v in [(1, (2, 3)), "h\\u00e9", 2 ** 64, -2 ** 31 - 1, [1.5, None, True], {"k": b"\\x00"}]:
    print(marshal.dumps(v, 2).hex())
t = (1, 2)
print(marshal.dumps([t, t], 4).hex())  # version 4 shares t by reference
`);
    const lines = r.stdout.trim().split('\n').map((h) => Buffer.from(h, 'hex'));
    const shared = lines.pop()!;
    expect(lines.map((b) => readMarshal(b, 0, b.length))).toEqual([[1, [2, 3]], 'h\u00e9', 2n ** 64n, -(2 ** 31) - 1, [1.5, null, true], { k: new Uint8Array([0]) }]);
    expect(() => readMarshal(shared, 0, shared.length)).toThrow(expect.objectContaining({ code: 'ERR_WORKER_PROTOCOL' }));
  });

  it('refuses truncated and malformed input with ERR_WORKER_PROTOCOL, never reading past the end', () => {
    const good = encode({ a: [1, 'two', 3.5] });
    for (let n = 0; n < good.length; n++) {
      expect(() => readMarshal(good.subarray(0, n), 0, n)).toThrow(expect.objectContaining({ code: 'ERR_WORKER_PROTOCOL' }));
    }
    expect(() => readMarshal(Buffer.from('5bffffff7f', 'hex'), 0, 5)).toThrow(expect.objectContaining({ code: 'ERR_WORKER_PROTOCOL' }));
    expect(() => readMarshal(Buffer.from('2e', 'hex'), 0, 1)).toThrow(/Ellipsis outside a reference/);
    expect(() => readMarshal(Buffer.from('e900000000', 'hex'), 0, 5)).toThrow(/unexpected marshal type/);
    expect(() => readMarshal(Buffer.from('4e4e', 'hex'), 0, 2)).toThrow(/unexpected bytes/);
  });
});

/** What a value reads back as: safe bigints as numbers (as Python ints do). */
function normalise(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(normalise);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]));
  return v;
}
