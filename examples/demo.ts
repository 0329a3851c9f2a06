/**
 * The shmbridge demo: Node and a real CPython share a raw block, a list, a
 * tensor and an Arrow table by name — no copies, no serialization.
 *
 *   pnpm demo
 *
 * Node creates each object and fills it; python3 attaches to each by name,
 * reads it, writes its answer into the same memory; Node sees the answers.
 * Everything it creates is unlinked at the end.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { SharedMemory, Tensor, generateName, unlinkBlock } from '@shmbridge/core';
import { ShareableList } from '@shmbridge/python-compat';
import { attachTable, closeTable, shareTable } from '@shmbridge/arrow';
import { python, pythonEnv } from './python.js';

const worker = fileURLToPath(new URL('./python/demo_worker.py', import.meta.url));

using shm = SharedMemory.create(4096);
using list = new ShareableList(['howdy', 42, 3.5, null, true]);
using tensor = Tensor.create({ dtype: 'float32', shape: [2, 3] });
const { shm: table } = shareTable(tableFromArrays({ fruit: ['apple', 'kiwi', 'plum'], kg: Float64Array.from([1.5, 0.25, 2]) }));
const answerName = generateName(); // Python writes its answer table here; Node unlinks it
try {
  // 1. A raw block: bytes and a Float64Array view over the same memory.
  shm.buf.write('hello from Node', 0);
  const xs = shm.view(Float64Array, { offset: 64, length: 4 });
  xs.set([1.5, 2.5, 3.5, 4.5]);
  console.log(`node:   block  ${shm.name}: wrote "hello from Node" and [${[...xs].join(', ')}]`);
  // 2. A list, laid out exactly as CPython's ShareableList.
  console.log(`node:   list   ${list.shm.name}: ${JSON.stringify(list.toArray())}`);
  // 3. A tensor, a NumPy .npy array in memory.
  tensor.data.set([1, 2, 3, 4, 5, 6]);
  console.log(`node:   tensor ${tensor.shm.name}: float32 [2, 3] = [${[...tensor.data].join(', ')}]`);

  // 4. A table, an Arrow IPC stream that pyarrow reads in place.
  console.log(`node:   table  ${table.name}: fruit, kg (3 rows)`);

  const py = spawnSync(python, [worker, shm.name, list.shm.name, tensor.shm.name, table.name, answerName], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: pythonEnv,
  });
  if (py.status !== 0) throw new Error(`${python} ${worker} failed (${py.status ?? py.signal})`);

  // Node sees Python's writes in place.
  console.log(`node:   block: python wrote "${shm.buf.toString('utf8', 128, 145)}" and doubled the numbers: [${[...xs].join(', ')}]`);
  console.log(`node:   list: ${JSON.stringify(list.toArray())}`);
  console.log(`node:   tensor: [${[...tensor.data].join(', ')}]`);
  const answer = attachTable(answerName);
  console.log(`node:   table: python answered ${JSON.stringify(answer.toArray().map((row) => row.toJSON()))}`);
  closeTable(answer);
} finally {
  shm.unlink();
  list.shm.unlink();
  tensor.shm.unlink();
  table.close().unlink();
  try {
    unlinkBlock(answerName);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // python3 failed before answering
  }
}
