/**
 * @shmbridge/worker: long-lived Python workers that Node calls like async
 * functions, with tensors, tables and lists passed by name (zero-copy).
 * The Python side is `shmbridge.worker` in the helper this package ships.
 * @packageDocumentation
 */
export { PythonWorker } from './python-worker.js';
export type { CallOptions, Progress } from './python-worker.js';
export { WorkerPool } from './pool.js';
export type { OutputHandler, PoolOptions, WorkerOptions } from './options.js';
export { PythonError } from './errors.js';
export type { WorkerExit } from './errors.js';
export { pythonHelperPath } from '@shmbridge/python-compat';
