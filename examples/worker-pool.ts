/**
 * A pool of Python workers: calls go to the least busy worker, and a full
 * queue refuses more work instead of buffering without bound.
 *
 *   pnpm exec tsx examples/worker-pool.ts
 *
 * Eight matrices, one CPU-bound numpy call each, spread over two workers;
 * then a burst larger than the queue, of which the excess is refused.
 */
import { fileURLToPath } from 'node:url';
import { Tensor } from '@shmbridge/core';
import { WorkerPool } from '@shmbridge/worker';
import { python } from './python.js';

const module = fileURLToPath(new URL('./python/pool_model.py', import.meta.url));

await using pool = await WorkerPool.start({ module, python, size: 2, maxQueue: 6 }); // 2 running + 6 waiting at most

const n = 300;
const matrices = Array.from({ length: 8 }, (_, k) => {
  const t = Tensor.create({ dtype: 'float64', shape: [n, n] });
  for (let i = 0; i < n; i++) t.data[i * n + i] = k + 1; // (k + 1) · identity: largest eigenvalue (k + 1)^2
  return t;
});
try {
  const results = await Promise.all(matrices.map((m) => pool.call('largest_eigenvalue', [m])));
  console.log(`node:   largest eigenvalues: ${results.map((r) => r.value).join(', ')}`);
  console.log(`node:   computed by ${new Set(results.map((r) => r.pid)).size} workers`);

  // A burst of 10: 2 run, 6 wait, and the last 2 are refused at once (backpressure, not a growing queue).
  const burst = Array.from({ length: 10 }, (_, i) => pool.call('largest_eigenvalue', [matrices[i % 8]]).then(() => 'ok', (err) => err.code));
  const outcomes = await Promise.all(burst);
  console.log(`node:   burst of ${outcomes.length}: ${outcomes.filter((o) => o === 'ok').length} done, ${outcomes.filter((o) => o === 'ERR_WORKER_QUEUE_FULL').length} refused (ERR_WORKER_QUEUE_FULL)`);
} finally {
  for (const m of matrices) m.close().shm.unlink();
}
