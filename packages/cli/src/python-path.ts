/**
 * `shmbridge python-path`: the folder of the pure-Python helper `shmbridge`
 * that ships inside `@shmbridge/python-compat` (its `python/` folder, with
 * `pyproject.toml`), so a project installed from npm hands it to Python
 * without a checkout: `PYTHONPATH="$(npx shmbridge python-path)"` or
 * `pip install "$(npx shmbridge python-path)"`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The folder holding the `shmbridge` Python package, inside the installed
 * `@shmbridge/python-compat`.
 * @example
 * import { spawnSync } from 'node:child_process';
 * import { pythonHelperDir } from '@shmbridge/cli';
 * spawnSync('python3', ['-c', 'import shmbridge'], { env: { ...process.env, PYTHONPATH: pythonHelperDir() } });
 */
export function pythonHelperDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@shmbridge/python-compat/package.json')), 'python');
}
