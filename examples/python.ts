/**
 * The Python the examples start, and the environment that lets it
 * `import shmbridge`: the project's virtualenv `.venv` when there is one (the
 * README's set-up command installs numpy, pyarrow and pandas there, leaving
 * the system's Python alone), else `python3` on PATH; the helper's folder
 * (packages/python-compat/python) on PYTHONPATH.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const venv = fileURLToPath(new URL('../.venv/bin/python3', import.meta.url));

/** The interpreter to spawn. */
export const python = existsSync(venv) ? venv : 'python3';

/** `process.env` with the shmbridge helper on PYTHONPATH. */
export const pythonEnv = { ...process.env, PYTHONPATH: fileURLToPath(new URL('../packages/python-compat/python', import.meta.url)) };
