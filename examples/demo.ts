/**
 * The shmbridge demo: Node and a real CPython share a raw block, a list and a
 * tensor by name — no copies, no serialization.
 *
 *   pnpm demo
 *
 * Node creates each object and fills it; python3 attaches to each by name,
 * reads it, writes its answer into the same memory; Node sees the answers.
 * Everything it creates is unlinked at the end.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { ShareableList } from '@shmbridge/python-compat';

const worker = fileURLToPath(new URL('./python/demo_worker.py', import.meta.url));
const pythonPath = fileURLToPath(new URL('../packages/python-compat/python', import.meta.url));

using shm = SharedMemory.create(4096);
using list = new ShareableList(['howdy', 42, 3.5, null, true]);
using tensor = Tensor.create({ dtype: 'float32', shape: [2, 3] });
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

  const py = spawnSync('python3', [worker, shm.name, list.shm.name, tensor.shm.name], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PYTHONPATH: pythonPath },
  });
  if (py.status !== 0) throw new Error(`python3 ${worker} failed (${py.status ?? py.signal})`);

  // Node sees Python's writes in place.
  console.log(`node:   block: python wrote "${shm.buf.toString('utf8', 128, 145)}" and doubled the numbers: [${[...xs].join(', ')}]`);
  console.log(`node:   list: ${JSON.stringify(list.toArray())}`);
  console.log(`node:   tensor: [${[...tensor.data].join(', ')}]`);
} finally {
  shm.unlink();
  list.shm.unlink();
  tensor.shm.unlink();
}
