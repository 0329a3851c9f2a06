/**
 * The corruption property, shared by the test suite (thousands of cases) and
 * scripts/fuzz-shareable-list.ts (as many as you like): take a valid list
 * block, damage it, attach, use every API. Only values or coded errors may
 * come out — an uncoded error (e.g. DataView's "Offset is outside the bounds")
 * would mean a bound was not checked.
 */
import fc from 'fast-check';
import { SharedMemory } from '@shmbridge/core';
import { ShareableList, py, type PyInput } from '@shmbridge/python-compat';

const value: fc.Arbitrary<PyInput> = fc.oneof(
  fc.integer(),
  fc.double().filter((x) => !Number.isInteger(x) || Math.abs(x) < 2 ** 63), // integral doubles past int64 are refused
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 20 }),
  fc.uint8Array({ maxLength: 20 }).map((b) => py.bytes(b)),
);

export const damage = fc.record({
  items: fc.array(value, { maxLength: 12 }),
  edits: fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('word' as const), at: fc.nat(), word: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) }),
      fc.record({ kind: fc.constant('resize' as const), delta: fc.integer({ min: -64, max: 64 }) }),
    ),
    { minLength: 1, maxLength: 6 },
  ),
  writes: fc.array(fc.tuple(fc.integer({ min: -20, max: 20 }), value), { maxLength: 4 }),
});

export type Damage = typeof damage extends fc.Arbitrary<infer T> ? T : never;

/** Runs one case; returns what happened, throws if an uncoded error escaped. */
export function exercise({ items, edits, writes }: Damage): 'read' | 'refused' {
  const valid = new ShareableList(items, { track: false });
  let bytes = Buffer.from(valid.shm.buf);
  valid.shm.close().unlink();
  for (const e of edits) {
    if (e.kind === 'resize') bytes = e.delta < 0 ? bytes.subarray(0, Math.max(1, bytes.length + e.delta)) : Buffer.concat([bytes, Buffer.alloc(e.delta)]);
    else if (e.kind === 'byte') bytes[e.at % bytes.length] = e.byte;
    else if (bytes.length >= 8) bytes.writeBigInt64LE(e.word, 8 * (e.at % Math.floor(bytes.length / 8)));
  }
  const shm = SharedMemory.create(bytes.length, { track: false });
  shm.buf.set(bytes);
  const coded = (fn: () => unknown): boolean => {
    try {
      fn();
      return true;
    } catch (err) {
      if (!(err instanceof Error) || typeof (err as { code?: unknown }).code !== 'string') throw err;
      return false;
    }
  };
  let outcome: 'read' | 'refused' = 'refused';
  try {
    let sl: ShareableList | undefined;
    coded(() => (sl = ShareableList.attach(shm.name)));
    if (sl) {
      const list = sl;
      coded(() => list.format);
      for (let i = -1; i <= list.length; i++) coded(() => list.get(i));
      if (coded(() => list.toArray())) outcome = 'read';
      coded(() => list.count(1));
      for (const [i, v] of writes) coded(() => list.set(i, v));
      coded(() => list.toArray());
      list.close();
    }
  } finally {
    shm.close().unlink();
  }
  return outcome;
}
