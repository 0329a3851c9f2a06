/**
 * SharedMemoryManager: the round trip of `smm.SharedMemory(4096)` (create a
 * block + register it with the manager over its socket) and `shutdown()` with
 * 1,000 tracked blocks — TS client + TS server vs CPython client + CPython
 * server, interleaved rounds. Target (issue 7): ≥ 5x faster per block.
 */
import { SharedMemory, unlinkBlock } from '@shmbridge/core';
import { SharedMemoryManager } from '@shmbridge/python-compat';
import { formatNs, interleaved, measure, type Stats } from '../lib/measure.js';
import { cpython313, timePython } from '../lib/python.js';
import { printTable, target } from '../lib/table.js';

const BLOCKS = 1000;
const ROUNDS = 3;

async function shmbridge(): Promise<Record<string, Stats>> {
  const smm = await SharedMemoryManager.start();
  const per: number[] = [];
  for (let i = 0; i < BLOCKS; i++) {
    const t0 = process.hrtime.bigint();
    const shm = await smm.SharedMemory(4096);
    per.push(Number(process.hrtime.bigint() - t0));
    shm.close();
  }
  // Floors: the parts any implementation pays — the block itself, one request, one shm_unlink.
  const block = measure(() => SharedMemory.create(4096).untrack().close(), { samples: 200, warmup: 20 });
  const rtts: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = process.hrtime.bigint();
    await smm.connect(); // the 'dummy' request
    rtts.push(Number(process.hrtime.bigint() - t));
  }
  rtts.sort((a, b) => a - b);
  const t0 = process.hrtime.bigint();
  await smm.shutdown();
  const shutdown = Number(process.hrtime.bigint() - t0);
  const names = Array.from({ length: 200 }, () => SharedMemory.create(4096, { track: false }).close().name);
  const unlink = measure((i) => unlinkBlock(names[i]!), { batch: 200, samples: 1, warmup: 0 });
  per.sort((a, b) => a - b);
  return {
    create: { median: per[BLOCKS >> 1]!, p90: per[Math.floor(BLOCKS * 0.9)]!, samples: BLOCKS },
    shutdown: { median: shutdown, p90: shutdown, samples: 1 },
    block,
    rtt: { median: rtts[100]!, p90: rtts[180]!, samples: 200 },
    unlink,
  };
}

const cpython = () =>
  timePython<Record<string, Stats>>(cpython313(), `
import json, time
from multiprocessing import resource_tracker
from multiprocessing.managers import SharedMemoryManager
smm = SharedMemoryManager()
smm.start()
per, made = [], []
for i in range(${BLOCKS}):
    t0 = time.perf_counter_ns()
    s = smm.SharedMemory(4096)
    per.append(time.perf_counter_ns() - t0)
    made.append(s)
for s in made:  # outside the clock: keep this client's tracker from unlinking the manager's blocks too
    resource_tracker.unregister(s._name, "shared_memory"); s.close()
t0 = time.perf_counter_ns()
smm.shutdown()
shutdown = time.perf_counter_ns() - t0
per.sort()
print(json.dumps({"create": {"median": per[len(per) // 2], "p90": per[int(len(per) * 0.9)], "samples": len(per)}, "shutdown": {"median": shutdown, "p90": shutdown, "samples": 1}}))
`);

const { shmbridge: ours, cpython: theirs } = await interleaved(ROUNDS, { shmbridge, cpython });
printTable(`SharedMemoryManager, ${BLOCKS} blocks (median of ${ROUNDS} interleaved rounds)`, ['operation', 'TS client + TS server', 'p90', 'CPython client + server', 'p90', 'ratio'], [
  ['smm.SharedMemory(4096) round trip', formatNs(ours.create!.median), formatNs(ours.create!.p90), formatNs(theirs.create!.median), formatNs(theirs.create!.p90), `${(theirs.create!.median / ours.create!.median).toFixed(1)}x`],
  [`shutdown() with ${BLOCKS} blocks`, formatNs(ours.shutdown!.median), '', formatNs(theirs.shutdown!.median), '', `${(theirs.shutdown!.median / ours.shutdown!.median).toFixed(1)}x`],
  ['shutdown per block', formatNs(ours.shutdown!.median / BLOCKS), '', formatNs(theirs.shutdown!.median / BLOCKS), '', ''],
  ['  floor: create a 4096-byte block locally', formatNs(ours.block!.median), formatNs(ours.block!.p90), '', '', ''],
  ['  floor: one request on the kept connection', formatNs(ours.rtt!.median), formatNs(ours.rtt!.p90), '', '', ''],
  ['  floor: one shm_unlink', formatNs(ours.unlink!.median), '', '', '', ''],
]);
const floor = ours.block!.median + ours.rtt!.median;
console.log(`note: on this machine a block plus one request already cost ${formatNs(floor)} (${(theirs.create!.median / floor).toFixed(1)}x under CPython's round trip), ` +
  `and shutdown is one shm_unlink per block (${formatNs(ours.unlink!.median)}; ${(theirs.shutdown!.median / BLOCKS / ours.unlink!.median).toFixed(1)}x under CPython's per-block cost).`);
target('SharedMemory(4096) round trip vs CPython', theirs.create!.median / ours.create!.median, 5);
target('shutdown of 1,000 blocks vs CPython', theirs.shutdown!.median / ours.shutdown!.median, 5);
