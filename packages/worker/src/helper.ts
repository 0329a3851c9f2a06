/**
 * Where the Python helper (`shmbridge`, with `shmbridge.worker`) is: the copy
 * shipped inside `@shmbridge/python-compat` (its `python/` folder is in the
 * npm package), so an npm install is all a user needs — no pip step. Workers
 * get it first on their PYTHONPATH.
 */
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';

/**
 * The folder to put on PYTHONPATH so that `import shmbridge` finds this
 * package's helper (for Python processes you start yourself).
 * @example
 * ```ts
 * import { spawnSync } from 'node:child_process';
 * import { pythonHelperPath } from '@shmbridge/worker';
 * spawnSync('python3', ['-c', 'import shmbridge; print(shmbridge.__version__)'], { env: { ...process.env, PYTHONPATH: pythonHelperPath() }, stdio: 'inherit' });
 * ```
 */
export function pythonHelperPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@shmbridge/python-compat/package.json')), 'python');
}

/** PYTHONPATH for a worker: the helper, then whatever the environment already had. */
export function workerPythonPath(existing: string | undefined): string {
  return existing ? `${pythonHelperPath()}${delimiter}${existing}` : pythonHelperPath();
}
