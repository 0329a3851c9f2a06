/**
 * Where the pure-Python helper `shmbridge` is: the `python/` folder shipped
 * inside this npm package (with its `pyproject.toml`), so a project installed
 * from npm can hand it to Python without a checkout or a pip step.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding the `shmbridge` Python package: put it on PYTHONPATH, or
 * `pip install` it. `npx shmbridge python-path` prints it; Python workers get it first on their PYTHONPATH.
 * @example
 * ```ts
 * import { spawnSync } from 'node:child_process';
 * import { pythonHelperPath } from '@shmbridge/python-compat';
 * spawnSync('python3', ['-c', 'import shmbridge; print(shmbridge.__version__)'], { env: { ...process.env, PYTHONPATH: pythonHelperPath() }, stdio: 'inherit' });
 * ```
 */
export function pythonHelperPath(): string {
  // dist/python-helper.js (or src/, under a TS test runner) → the package root → python/
  return join(dirname(dirname(fileURLToPath(import.meta.url))), 'python');
}
