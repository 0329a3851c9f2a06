/**
 * Options of `PythonWorker.start` and `WorkerPool.start`, checked once at
 * start with zod (calls are checked by hand: they are the hot path).
 */
import { z } from 'zod';

/** Where a worker's output goes: `onOutput(text, 'stdout' | 'stderr')`. */
export type OutputHandler = (text: string, stream: 'stdout' | 'stderr') => void;

/** Options of {@link PythonWorker.start}. */
export interface WorkerOptions {
  /** The user's module: a file (`'model.py'`, `'./lib/model.py'`) or a dotted name (`'mypkg.model'`), resolved from `cwd`. */
  module: string;
  /** The interpreter (3.8–3.13). Default `'python3'`. */
  python?: string;
  /** Working directory of the worker (and where `module` is looked up). Default: this process's. */
  cwd?: string;
  /** Variables added to this process's environment for the worker (`undefined` removes one). */
  env?: Record<string, string | undefined>;
  /** How long the import may take before `start()` gives up. Default 60,000 ms (a `torch` import alone takes seconds). */
  startTimeoutMs?: number;
  /** What tensors arrive as in Python: `'numpy'` arrays (default) or `'torch'` tensors (`torch.from_numpy` views, no copy). */
  arrays?: 'numpy' | 'torch';
  /** Receives what the worker prints. Default: written to this process's stderr. */
  onOutput?: OutputHandler;
  /** After a call is cancelled (abort, timeout), how long it may run on before the worker is killed. Default 2,000 ms. */
  cancelGraceMs?: number;
  /** After `close()`, once every call has returned, how long the process may take to exit before it is killed. Default 5,000 ms. */
  closeTimeoutMs?: number;
  /** The largest message either side accepts; larger data travels in shared memory. Default 64 MiB. */
  maxFrameBytes?: number;
}

/** Options of {@link WorkerPool.start}: a worker's, plus the pool's own. */
export interface PoolOptions extends WorkerOptions {
  /** Number of workers. Default: `os.availableParallelism()`. */
  size?: number;
  /** Calls that may wait for a free worker; one more is refused with `ERR_WORKER_QUEUE_FULL`. Default 1,024. */
  maxQueue?: number;
  /** Calls each worker runs at once (the next ones already waiting in its pipe). Default 1. */
  concurrency?: number;
}

const MiB = 1 << 20;

const positiveMs = z.number().int().positive().max(2 ** 31 - 1);

export const workerOptionsSchema = z.object({
  module: z.string().min(1),
  python: z.string().min(1).default('python3'),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string().optional()).optional(),
  startTimeoutMs: positiveMs.default(60_000),
  arrays: z.enum(['numpy', 'torch']).default('numpy'),
  onOutput: z.custom<OutputHandler>((v) => typeof v === 'function', 'expected a function').optional(),
  cancelGraceMs: z.number().int().min(0).max(2 ** 31 - 1).default(2_000),
  closeTimeoutMs: positiveMs.default(5_000),
  maxFrameBytes: z.number().int().min(4096).max(1 << 30).default(64 * MiB),
});

export const poolOptionsSchema = workerOptionsSchema.extend({
  size: z.number().int().positive().max(1024).optional(),
  maxQueue: z.number().int().min(0).max(2 ** 31 - 1).default(1024),
  concurrency: z.number().int().positive().max(4096).default(1),
});

export type ParsedWorkerOptions = z.output<typeof workerOptionsSchema>;
