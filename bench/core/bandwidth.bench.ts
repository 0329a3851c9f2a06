/**
 * Write bandwidth: `fill()` over a whole block against a `Buffer.allocUnsafeSlow`
 * of the same size — ordinary memory — first into fresh memory (the first
 * full write after allocation) and then into memory already written (steady
 * state). The block is made by `SharedMemory.create(size)` with its defaults
 * (posix_fallocate + MAP_POPULATE; bench/core/reserve.bench.ts compares those),
 * which fault every page in at create. Like for like, the Buffer's pages are
 * faulted in at allocation too (one write per 4 KiB page, inside the
 * allocation's time), so "first write" times the same thing on both sides,
 * and "create/allocate + first write" times all of it. Sizes are ones where a
 * fill takes long enough to time stably on this machine.
 * Target (issue 3): ≥ 0.9x ordinary memory, fresh and touched.
 */
import { SharedMemory } from '@shmbridge/core';
import { GiB, MiB } from '../lib/cases.js';
import { formatNs, stats } from '../lib/measure.js';
import { formatBytes, printTable, target } from '../lib/table.js';

const ROUNDS = 3;
const REWRITES = 3;
const PAGE = 4096;
const sizes = [256 * MiB, GiB];

function timeFill(bytes: Uint8Array, value: number): number {
  const t0 = process.hrtime.bigint();
  bytes.fill(value);
  return Number(process.hrtime.bigint() - t0);
}

/** ns of the allocation, of the first fill and the median of {@link REWRITES} more. */
function fills(allocate: () => Uint8Array): { alloc: number; fresh: number; touched: number } {
  const t0 = process.hrtime.bigint();
  const bytes = allocate();
  const alloc = Number(process.hrtime.bigint() - t0);
  const fresh = timeFill(bytes, 1);
  const again = Array.from({ length: REWRITES }, (_, i) => timeFill(bytes, i + 2));
  return { alloc, fresh, touched: stats(again).median };
}

const sides = {
  block(size: number) {
    let shm: SharedMemory | undefined;
    try {
      return fills(() => (shm = SharedMemory.create(size)).buf);
    } finally {
      shm?.close().unlink();
    }
  },
  buffer(size: number) {
    const r = fills(() => {
      const b = Buffer.allocUnsafeSlow(size);
      for (let p = 0; p < size; p += PAGE) b[p] = 0; // fault every page in, as MAP_POPULATE does for the block
      return b;
    });
    (globalThis as { gc?: () => void }).gc?.(); // give the memory back before the next allocation
    return r;
  },
};

const seen = new Map<string, number[]>();
const push = (key: string, ns: number) => (seen.get(key) ?? seen.set(key, []).get(key)!).push(ns);
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? (['block', 'buffer'] as const) : (['buffer', 'block'] as const);
  for (const size of sizes) {
    for (const side of order) {
      const r = sides[side](size);
      push(`${side} fresh ${size}`, r.fresh);
      push(`${side} alloc+fresh ${size}`, r.alloc + r.fresh);
      push(`${side} touched ${size}`, r.touched);
    }
  }
}

const median = (key: string) => stats(seen.get(key)!).median;
const gbps = (size: number, ns: number) => `${(size / ns).toFixed(2)} GB/s`;
const rows: string[][] = [];
const checks: Array<[string, number]> = [];
for (const size of sizes) {
  for (const kind of ['fresh', 'alloc+fresh', 'touched'] as const) {
    const block = median(`block ${kind} ${size}`);
    const buffer = median(`buffer ${kind} ${size}`);
    const what = { fresh: 'first write (pages faulted in)', 'alloc+fresh': 'create/allocate (+ fault in) + first write', touched: 'rewrite (touched memory)' }[kind];
    rows.push([formatBytes(size), what, `${formatNs(block)} (${gbps(size, block)})`, `${formatNs(buffer)} (${gbps(size, buffer)})`, `${(buffer / block).toFixed(2)}x`]);
    checks.push([`${kind} ${formatBytes(size)}`, buffer / block]);
  }
}
printTable(
  `write bandwidth, fill() of the whole block vs Buffer.allocUnsafeSlow (${process.version}; median of ${ROUNDS} interleaved rounds)`,
  ['size', 'write', 'block', 'Buffer', 'block bandwidth / Buffer'],
  rows,
);
for (const [label, achieved] of checks) target(`bandwidth ${label}: block / ordinary memory`, achieved, 0.9);
