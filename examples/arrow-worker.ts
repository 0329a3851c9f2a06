/**
 * A table for a Python data worker (pyarrow + pandas), and its answer back,
 * with no copy and no serialization:
 *
 *   pnpm exec tsx examples/arrow-worker.ts
 *
 * Node builds an apache-arrow table of orders and shares it; a python3 worker
 * reads it in place with `shmbridge.table(name)`, aggregates it with pandas,
 * and writes the result table into a block whose name Node chose (so Node can
 * clean up whatever happens); Node reads the result in place.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { generateName, unlinkBlock } from '@shmbridge/core';
import { attachTable, closeTable, shareTable } from '@shmbridge/arrow';
import { python, pythonEnv } from './python.js';

const worker = fileURLToPath(new URL('./python/arrow_worker.py', import.meta.url));

const orders = tableFromArrays({
  city: ['Lyon', 'Oslo', 'Lyon', 'Kyoto', 'Oslo', 'Lyon'],
  amount: Float64Array.from([12.5, 40, 7.5, 99.9, 10, 30]),
  quantity: Int32Array.from([1, 4, 1, 3, 1, 2]),
});
const { shm } = shareTable(orders);
const resultName = generateName();
try {
  console.log(`node:   shared ${orders.numRows} orders as ${shm.name} (${shm.size} bytes, Arrow IPC)`);
  const py = spawnSync(python, [worker, shm.name, resultName], { stdio: 'inherit', env: pythonEnv });
  if (py.status !== 0) throw new Error(`${python} ${worker} failed (${py.status ?? py.signal})`);

  const totals = attachTable(resultName); // zero-copy views of the block Python wrote
  for (const row of totals) console.log(`node:   ${row.city.padEnd(6)} revenue ${row.revenue.toFixed(2).padStart(7)}  items ${row.items}`);
  closeTable(totals);
} finally {
  shm.close().unlink();
  try {
    unlinkBlock(resultName); // Python handed the result block to us (track=False)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // the worker failed before writing it
  }
}
