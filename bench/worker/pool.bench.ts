/**
 * A CPU-bound numpy function (sorting: single-threaded, no BLAS pool) on one
 * worker and on a pool of 2, alternating rounds of the same 16 calls.
 * Target (issue 12): the pool's throughput ≥ 1.7x one worker's. (This machine
 * has 2 vCPUs, shared: the ceiling is 2x.)
 */
import { fileURLToPath } from 'node:url';
import { Tensor } from '@shmbridge/core';
import { WorkerPool } from '@shmbridge/worker';
import { formatNs } from '../lib/measure.js';
import { printTable, target } from '../lib/table.js';
import { PYTHON } from '../lib/workers.js';

const module = fileURLToPath(new URL('./python/bench_model.py', import.meta.url));
const CALLS = 16;
const ROUNDS = 5;

const options = { module, python: PYTHON };
const one = await WorkerPool.start({ ...options, size: 1, maxQueue: CALLS });
const two = await WorkerPool.start({ ...options, size: 2, maxQueue: CALLS });
const x = Tensor.create({ dtype: 'float64', shape: [1 << 18] });
try {
  for (let i = 0; i < x.data.length; i++) x.data[i] = Math.sin(i);
  const run = async (pool: WorkerPool) => {
    const t0 = process.hrtime.bigint();
    const results = await Promise.all(Array.from({ length: CALLS }, () => pool.call('busy', [x, 8])));
    const ns = Number(process.hrtime.bigint() - t0);
    if (new Set(results).size !== 1) throw new Error('bench: the calls disagree');
    return ns;
  };
  await run(one);
  await run(two);
  const times: Record<'one' | 'two', number[]> = { one: [], two: [] };
  for (let r = 0; r < ROUNDS; r++) {
    times.one.push(await run(one));
    times.two.push(await run(two));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const a = median(times.one);
  const b = median(times.two);
  printTable(`${CALLS} CPU-bound numpy calls (sort 2^18 float64, 8 times), median of ${ROUNDS} alternating rounds`, ['pool', 'time', 'calls/s'], [
    ['1 worker', formatNs(a), (CALLS / (a / 1e9)).toFixed(1)],
    ['2 workers', formatNs(b), (CALLS / (b / 1e9)).toFixed(1)],
  ]);
  target('pool of 2 / 1 worker, throughput', a / b, 1.7);
} finally {
  x.close().shm.unlink();
  await Promise.all([one.close(), two.close()]);
}
