/**
 * The shmbridge demo: Node and a real CPython share memory by name.
 *
 *   pnpm demo
 *
 * Node creates a block and fills it; python3 attaches to it by name (no copy,
 * no serialization), reads it, writes its answer into the same memory; Node
 * sees the answer. Everything it creates is unlinked at the end.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SharedMemory } from '@shmbridge/core';

const worker = fileURLToPath(new URL('./python/demo_worker.py', import.meta.url));
const pythonPath = fileURLToPath(new URL('../packages/python-compat/python', import.meta.url));

// 1. A raw block: bytes and a Float64Array view over the same memory.
using shm = SharedMemory.create(4096);
try {
  shm.buf.write('hello from Node', 0);
  const xs = shm.view(Float64Array, { offset: 64, length: 4 });
  xs.set([1.5, 2.5, 3.5, 4.5]);
  console.log(`node:   created ${shm.name} (${shm.size} bytes), wrote "hello from Node" and [${[...xs].join(', ')}]`);

  // 2. CPython attaches by name, reads, writes back.
  const py = spawnSync('python3', [worker, shm.name], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PYTHONPATH: pythonPath },
  });
  if (py.status !== 0) throw new Error(`python3 ${worker} failed (${py.status ?? py.signal})`);

  // 3. Node sees Python's writes in place.
  console.log(`node:   python wrote "${shm.buf.toString('utf8', 128, 145)}" and doubled the numbers: [${[...xs].join(', ')}]`);
} finally {
  shm.unlink();
}
