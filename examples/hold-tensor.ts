/**
 * A Node process that holds a tensor until you press Enter, so a notebook (or
 * any Python) can attach to it by name while it runs:
 *
 *   pnpm exec tsx examples/hold-tensor.ts        # prints: tensor psm_… (float64, [3, 4]) — ...
 *   PYTHONPATH=packages/python-compat/python .venv/bin/python3 examples/notebook.py psm_…   # in another terminal / a notebook cell
 */
import { Tensor } from '@shmbridge/core';

const t = Tensor.create({ dtype: 'float64', shape: [3, 4] });
t.data.set(Array.from({ length: 12 }, (_, i) => i * 0.5));
console.log(`tensor ${t.shm.name} (${t.dtype}, [${t.shape.join(', ')}]) — attach with: shmbridge.ndarray(${JSON.stringify(t.shm.name)}); press Enter to end`);
process.stdin.once('data', () => {
  console.log(`node: the notebook left row 0 = [${[...t.data.subarray(0, 4)].join(', ')}]`);
  t.close().shm.unlink();
  process.exit(0);
});
process.stdin.once('end', () => {
  t.close().shm.unlink();
  process.exit(0);
});
