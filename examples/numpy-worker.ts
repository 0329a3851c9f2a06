/**
 * Feeding a tensor to a Python (numpy) worker with no copy:
 *
 *   pnpm exec tsx examples/numpy-worker.ts
 *
 * Node creates an input and an output tensor, hands their names to a python3
 * worker, which attaches with `shmbridge.ndarray(name)`, normalizes every row
 * of the input into the output in place, and exits. Node reads the result
 * from the same memory.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Tensor } from '@shmbridge/core';
import { python, pythonEnv } from './python.js';

const worker = fileURLToPath(new URL('./python/numpy_worker.py', import.meta.url));

using input = Tensor.create({ dtype: 'float32', shape: [4, 3] });
using output = Tensor.create({ dtype: 'float32', shape: [4, 3] });
try {
  input.data.set([3, 4, 0, 1, 1, 1, 0, 0, 5, 6, 8, 0]);
  const r = spawnSync(python, [worker, input.shm.name, output.shm.name], { stdio: 'inherit', env: pythonEnv });
  if (r.status !== 0) throw new Error(`numpy worker failed (${r.status ?? r.signal})`);
  const rows = Array.from({ length: 4 }, (_, i) => [...output.data.subarray(i * 3, i * 3 + 3)].map((x) => x.toFixed(3)).join(' '));
  console.log(`node:   unit rows computed by numpy, read in place:\n        ${rows.join('\n        ')}`);
} finally {
  input.shm.unlink();
  output.shm.unlink();
}
