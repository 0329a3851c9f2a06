/**
 * A long-lived Python (numpy) worker: the model loads once, then Node calls
 * it many times, with tensors passed by name and no copy.
 *
 *   pnpm exec tsx examples/numpy-worker.ts
 *
 * Shown: a call that changes Node's tensor in place, 1,000 predictions that
 * return new tensors (each in a block Node alone holds), a long call that
 * reports progress, and one that is cancelled half way (the worker stops it
 * and serves on).
 */
import { fileURLToPath } from 'node:url';
import { Tensor } from '@shmbridge/core';
import { PythonWorker, type Progress } from '@shmbridge/worker';
import { python } from './python.js';

const model = fileURLToPath(new URL('./python/numpy_model.py', import.meta.url));

await using worker = await PythonWorker.start({
  python, // the project's .venv when there is one (examples/python.ts)
  module: model, // imported once: its weights load here, not per call
  onOutput: (text) => process.stdout.write(text), // what Python prints (default: this process's stderr)
});

using input = Tensor.create({ dtype: 'float32', shape: [4, 3] });
try {
  input.data.set([3, 4, 0, 1, 1, 1, 0, 0, 5, 6, 8, 0]);
  await worker.call('normalize', [input]); // numpy divides Node's memory in place
  const rows = Array.from({ length: 4 }, (_, i) => [...input.data.subarray(i * 3, i * 3 + 3)].map((x) => x.toFixed(3)).join(' '));
  console.log(`node:   unit rows, computed by numpy in Node's tensor:\n        ${rows.join('\n        ')}`);

  const started = performance.now();
  let last: Tensor<'float32'> | undefined;
  for (let i = 0; i < 1000; i++) {
    last?.close();
    last = await worker.call('predict', [input]);
  }
  const perCall = ((performance.now() - started) / 1000) * 1000;
  console.log(`node:   1000 predictions by the same worker (${perCall.toFixed(0)} µs each), last: [${[...last!.data].map((x) => x.toFixed(3)).join(', ')}]`);
  last!.close();

  const report = (p: Progress) => console.log(`node:   progress ${p.current}/${p.total} ${p.message}`);
  const trained = await worker.call('train', [3], {}, { onProgress: report });
  console.log(`node:   trained: ${JSON.stringify(trained)}`);

  const stop = new AbortController();
  const long = worker.call('train', [1000], {}, {
    signal: stop.signal,
    onProgress: (p) => {
      report(p);
      if (p.current === 2) stop.abort(); // e.g. the user pressed Cancel
    },
  });
  await long.catch((err: Error) => console.log(`node:   long training: ${err.name} (${(err as { code?: string }).code})`));
  console.log(`node:   the worker is still serving: ${JSON.stringify(await worker.call('train', [1], { seconds_per_epoch: 0 }))}`);
} finally {
  input.shm.unlink();
}
