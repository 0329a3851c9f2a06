/**
 * SharedMemoryManager: `smm.SharedMemory(4096)` (create a block + register it
 * with the manager over its socket) and `shutdown()` with 1,000 tracked
 * blocks — TS client + TS server vs CPython client + CPython server,
 * interleaved rounds. Target (issue 7): ≥ 5x faster per block.
 *
 * The TS client pipelines requests to a manager it started: a call returns
 * once its request is written, and the manager's confirmation is read later.
 * So two figures: the call as the caller waits for it, and 1,000 calls until
 * the last confirmation has arrived (per block) — the target is applied to
 * the second. CPython waits for each reply (a new connection per request).
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
  const made: SharedMemory[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < BLOCKS; i++) {
    const t0 = process.hrtime.bigint();
    made.push(await smm.SharedMemory(4096));
    per.push(Number(process.hrtime.bigint() - t0));
  }
  // Replies come in order: once this one is back, every block is confirmed.
  const tracked = await smm.listSegments();
  const confirmed = Number(process.hrtime.bigint() - start) / BLOCKS;
  for (const shm of made) shm.close(); // outside the clock, as on the CPython side
  if (tracked.length !== BLOCKS) throw new Error(`the manager tracks ${tracked.length} blocks, not ${BLOCKS}`);
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
    confirmed: { median: confirmed, p90: confirmed, samples: 1 },
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
  ['smm.SharedMemory(4096), the call', formatNs(ours.create!.median), formatNs(ours.create!.p90), formatNs(theirs.create!.median), formatNs(theirs.create!.p90), `${(theirs.create!.median / ours.create!.median).toFixed(1)}x`],
  [`  ${BLOCKS} calls until all confirmed, per block`, formatNs(ours.confirmed!.median), '', formatNs(theirs.create!.median), '', `${(theirs.create!.median / ours.confirmed!.median).toFixed(1)}x`],
  [`shutdown() with ${BLOCKS} blocks`, formatNs(ours.shutdown!.median), '', formatNs(theirs.shutdown!.median), '', `${(theirs.shutdown!.median / ours.shutdown!.median).toFixed(1)}x`],
  ['shutdown per block', formatNs(ours.shutdown!.median / BLOCKS), '', formatNs(theirs.shutdown!.median / BLOCKS), '', ''],
  ['  floor: create a 4096-byte block locally', formatNs(ours.block!.median), formatNs(ours.block!.p90), '', '', ''],
  ['  floor: one request on the kept connection', formatNs(ours.rtt!.median), formatNs(ours.rtt!.p90), '', '', ''],
  ['  floor: one shm_unlink', formatNs(ours.unlink!.median), '', '', '', ''],
]);
const floor = ours.block!.median + ours.rtt!.median;
console.log(`note: on this machine a block plus one unpipelined request cost ${formatNs(floor)} (${(theirs.create!.median / floor).toFixed(1)}x under CPython's round trip), ` +
  `and shutdown is one shm_unlink per block (${formatNs(ours.unlink!.median)}; ${(theirs.shutdown!.median / BLOCKS / ours.unlink!.median).toFixed(1)}x under CPython's per-block cost).`);
target('SharedMemory(4096), 1,000 calls until confirmed, vs CPython', theirs.create!.median / ours.confirmed!.median, 5);
target('shutdown of 1,000 blocks vs CPython', theirs.shutdown!.median / ours.shutdown!.median, 5);
