/**
 * Reserve strategies: the time of create + the first full write (`fill(1)`)
 * of a 64 MiB and a 1 GiB block, for each way of preparing the pages at create:
 * - none: ftruncate only (CPython's way); pages are allocated on first touch,
 *   and a full /dev/shm is a SIGBUS then;
 * - posix_fallocate: pages allocated at create (ENOSPC at create, not SIGBUS later);
 * - MAP_POPULATE: page tables filled at mmap (allocates too, but a failure is
 *   silent: mmap still succeeds);
 * - posix_fallocate + MAP_POPULATE: shmbridge's default for create.
 * shmbridge's rows compose the strategies from core's internal binding (the
 * public API offers `reserve` and `populate`). The C floor repeats them at
 * 64 MiB (memset against fill) and also tries madvise(MADV_POPULATE_WRITE),
 * which core's binding lacks: prefaulting with write faults, so the first
 * write should find every page writable. Rounds are interleaved and the
 * strategy order rotates per round. About 80 s, most of it the 1 GiB first
 * writes (this VM's first touch is slow).
 */
import { GiB, MiB, ok } from '../lib/cases.js';
import { cFloorFill } from '../lib/floors.js';
import { formatNs, stats } from '../lib/measure.js';
import { native } from '../lib/native.js';
import { formatBytes, printTable, times } from '../lib/table.js';

const ROUNDS = 3;
const sizes: Array<[size: number, samplesPerRound: number]> = [[64 * MiB, 3], [GiB, 1]];
const { O_CREAT, O_EXCL, O_RDWR, MAP_POPULATE } = native.constants;

interface Strategy {
  reserve: boolean;
  mmapFlags: number;
  /** C floor only: madvise(MADV_POPULATE_WRITE) after mmap. */
  prefaultWrite?: boolean;
}
const strategies: Record<string, Strategy> = {
  none: { reserve: false, mmapFlags: 0 },
  posix_fallocate: { reserve: true, mmapFlags: 0 },
  MAP_POPULATE: { reserve: false, mmapFlags: MAP_POPULATE },
  'posix_fallocate + MAP_POPULATE (default)': { reserve: true, mmapFlags: MAP_POPULATE },
  'posix_fallocate + MADV_POPULATE_WRITE (C only)': { reserve: true, mmapFlags: 0, prefaultWrite: true },
};
const DETACH_KEY = {};
const path = `/psm_reserve_bench_${process.pid}`;

/** shmbridge's syscalls for one strategy; returns ns of create and of the first fill. */
function nodeOnce(size: number, s: Strategy): { create: number; fill: number } {
  let buffer: ArrayBuffer | undefined;
  try {
    const t0 = process.hrtime.bigint();
    const fd = ok(native.open(path, O_CREAT | O_EXCL | O_RDWR, 0o600), 'shm_open');
    try {
      ok(native.truncate(fd, size), 'ftruncate');
      if (s.reserve) ok(native.reserve(fd, size), 'posix_fallocate');
      buffer = ok(native.map(fd, size, s.mmapFlags, DETACH_KEY), 'mmap');
    } finally {
      native.close(fd);
    }
    const t1 = process.hrtime.bigint();
    new Uint8Array(buffer).fill(1);
    const t2 = process.hrtime.bigint();
    return { create: Number(t1 - t0), fill: Number(t2 - t1) };
  } finally {
    if (buffer) native.unmap(buffer, false, DETACH_KEY); // the fill's view is gone: unmapped outright
    native.unlink(path);
  }
}

type Samples = { create: number[]; fill: number[]; total: number[] };
const seen = new Map<string, Samples>();
const record = (key: string, r: { create: number; fill: number }) => {
  const s = seen.get(key) ?? seen.set(key, { create: [], fill: [], total: [] }).get(key)!;
  s.create.push(r.create);
  s.fill.push(r.fill);
  s.total.push(r.create + r.fill);
};

const names = Object.keys(strategies);
for (let round = 0; round < ROUNDS; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]!);
  for (const [size, samples] of sizes) {
    for (let i = 0; i < samples; i++) {
      for (const name of order) {
        const s = strategies[name]!;
        if (!s.prefaultWrite) record(`node ${size} ${name}`, nodeOnce(size, s));
        // The C floor at 1 GiB only where Node cannot go: its rows there would cost ~15 s a round.
        if (size < GiB || s.prefaultWrite) record(`c ${size} ${name}`, cFloorFill(size, s.reserve, s.mmapFlags, s.prefaultWrite ?? false));
      }
    }
  }
}

const median = (xs: number[]) => stats(xs).median;
const rows: string[][] = [];
for (const [size] of sizes) {
  const none = median(seen.get(`node ${size} none`)!.total);
  for (const name of names) {
    const node = seen.get(`node ${size} ${name}`);
    const c = seen.get(`c ${size} ${name}`);
    rows.push([
      formatBytes(size),
      name,
      node ? formatNs(median(node.create)) : '—',
      node ? formatNs(median(node.fill)) : '—',
      node ? formatNs(median(node.total)) : '—',
      node ? times(median(node.total), none) : '—',
      c ? `${formatNs(median(c.create))} + ${formatNs(median(c.fill))} = ${formatNs(median(c.total))}` : '—',
    ]);
  }
}
printTable(
  `create + first full write (fill(1)), by reserve strategy (${process.version}; median of ${ROUNDS} interleaved rounds, ${sizes.map(([s, n]) => `${formatBytes(s)}: ${n * ROUNDS} samples`).join(', ')})`,
  ['size', 'strategy', 'create', 'first fill', 'create + fill', '/ none', 'C floor: create + memset'],
  rows,
);
