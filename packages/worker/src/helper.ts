/**
 * The Python helper a worker imports (`shmbridge`, with `shmbridge.worker`):
 * the copy shipped inside `@shmbridge/python-compat`, first on the worker's
 * PYTHONPATH, so an npm install is all a user needs — no pip step.
 */
import { delimiter } from 'node:path';
import { pythonHelperPath } from '@shmbridge/python-compat';

/** PYTHONPATH for a worker: the helper, then whatever the environment already had. */
export function workerPythonPath(existing: string | undefined): string {
  return existing ? `${pythonHelperPath()}${delimiter}${existing}` : pythonHelperPath();
}
