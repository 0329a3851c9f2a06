/**
 * What creator tracking costs (packages/core/src/tracker.ts):
 * - the first tracked create in a fresh process, which spawns the tracker,
 *   against the first untracked one (each in its own new Node process;
 *   CPython 3.13's first create with and without its resource tracker, for
 *   reference);
 * - steady state: 4 KiB create + close + unlink with `track: true` against
 *   `track: false`, in one process whose tracker is running (its unlink
 *   still tells the tracker, so a later block of the same name is safe).
 *   Nothing reserved or populated (`reserve: false, populate: false`), so
 *   the syscalls are CPython's and the difference is the tracker's.
 * The issue asks that tracking not slow create down noticeably.
 */
import { SharedMemory } from '@shmbridge/core';
import { runNode, runPython } from '@shmbridge/testkit';
import { KiB } from '../lib/cases.js';
import { formatNs, interleaved, measure, stats, type Stats } from '../lib/measure.js';
import { cpython313, PY_TIMING, timePython } from '../lib/python.js';
import { printComparison, printTable } from '../lib/table.js';

const CHILDREN = 8;
const ROUNDS = 5;
const SIZE = 4 * KiB;

const FIRST_NODE = `
const { SharedMemory } = await import(core);
const track = process.argv[1] === 'track';
const t0 = process.hrtime.bigint();
const shm = SharedMemory.create(${SIZE}, { track });
const t1 = process.hrtime.bigint();
shm.close().unlink();
console.log(Number(t1 - t0));
`;
const FIRST_PYTHON = `
import sys, time
from multiprocessing import shared_memory
track = sys.argv[1] == "track"
t0 = time.perf_counter_ns()
shm = shared_memory.SharedMemory(create=True, size=${SIZE}, track=track)
t1 = time.perf_counter_ns()
shm.close(); shm.unlink()
print(t1 - t0)
`;

const py = cpython313();
const firsts = new Map<string, number[]>();
const push = (key: string, ns: number) => (firsts.get(key) ?? firsts.set(key, []).get(key)!).push(ns);
for (let i = 0; i < CHILDREN; i++) {
  for (const mode of i % 2 ? ['track', 'untracked'] : ['untracked', 'track']) {
    const node = await runNode(FIRST_NODE, { args: [mode] });
    if (node.status !== 0) throw new Error(`node child failed: ${node.stderr}`);
    push(`node ${mode}`, Number(node.stdout.trim()));
    const python = await runPython(py, FIRST_PYTHON, { args: [mode] });
    push(`python ${mode}`, Number(python.stdout.trim()));
  }
}
const first = (key: string) => stats(firsts.get(key)!);
const firstRows = (['node', 'python'] as const).map((who) => {
  const tracked = first(`${who} track`);
  const untracked = first(`${who} untracked`);
  return [
    who === 'node' ? 'shmbridge' : `CPython ${py.label}`,
    `${formatNs(tracked.median)} (${formatNs(tracked.p90)})`,
    `${formatNs(untracked.median)} (${formatNs(untracked.p90)})`,
    `+${formatNs(tracked.median - untracked.median)}`,
  ];
});
printTable(
  `first ${SIZE / KiB} KiB create in a fresh process: tracked (spawns the tracker) vs untracked (median (p90) of ${CHILDREN} processes each)`,
  ['', 'tracked', 'untracked', 'tracking costs'],
  firstRows,
);

// Steady state, in this process (its tracker starts with the first tracked create, during warm-up).
const CPYTHON = `${PY_TIMING}
from multiprocessing import shared_memory
res = {}
for key, track in (("track: true", True), ("track: false", False)):
    def op(i):
        s = shared_memory.SharedMemory(create=True, size=${SIZE}, track=track)
        try:
            s.close()
        finally:
            s.unlink()
    res[key] = per_op(op, 20, 25, 50)
print(json.dumps(res))
`;
const cases = [{ key: 'track: true', label: 'track: true' }, { key: 'track: false', label: 'track: false' }];
const steady = (track: boolean): Stats =>
  measure(() => {
    const shm = SharedMemory.create(SIZE, { track, reserve: false, populate: false });
    try {
      shm.close();
    } finally {
      shm.unlink();
    }
  }, { batch: 20, samples: 25, warmup: 50 });
const results = await interleaved(ROUNDS, {
  shmbridge: () => ({ 'track: true': steady(true), 'track: false': steady(false) }),
  cpython: () => timePython<Record<string, Stats>>(py, CPYTHON),
});
printComparison(
  `steady state: ${SIZE / KiB} KiB create + close + unlink, nothing reserved, tracked vs untracked (median of ${ROUNDS} interleaved rounds)`,
  cases,
  results,
  [{ header: 'vs CPython', side: 'shmbridge', base: 'cpython', as: 'faster' }],
);
const cost = (side: 'shmbridge' | 'cpython') => results[side]['track: true']!.median - results[side]['track: false']!.median;
console.log(`tracking costs per create + unlink: shmbridge +${formatNs(cost('shmbridge'))}, CPython +${formatNs(cost('cpython'))}`);
