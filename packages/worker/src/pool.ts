/**
 * `WorkerPool`: several `PythonWorker`s of one module behind one `call()`.
 * A call goes to the least busy worker that has room (`concurrency` calls
 * each), else waits in a bounded queue; a full queue refuses the call
 * (`ERR_WORKER_QUEUE_FULL`), so a producer faster than Python gets
 * backpressure instead of unbounded memory. A worker that dies — crashed,
 * killed after a cancelled call overran its grace period — is replaced.
 */
import { availableParallelism } from 'node:os';
import { parseArg, type CodedError } from '@shmbridge/core';
import { abortError, queueFull, workerClosed, workerTimeout } from './errors.js';
import { poolOptionsSchema, type PoolOptions, type WorkerOptions } from './options.js';
import { PythonWorker, type CallOptions } from './python-worker.js';

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');
const RESTART_MIN_MS = 100;
const RESTART_MAX_MS = 5_000;

interface Job {
  fn: string;
  args: readonly unknown[];
  kwargs: Readonly<Record<string, unknown>>;
  options: CallOptions;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  /** Aborted by the caller's signal or by the pool's timeout; given to the worker's call. */
  controller: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  done: boolean;
}

/** Marks an abort that is the pool's own timeout. */
const TIMEOUT = Symbol('timeout');

/**
 * A pool of workers serving one module.
 *
 * @example
 * ```ts
 * import { WorkerPool } from '@shmbridge/worker';
 * await using pool = await WorkerPool.start({ module: 'math', size: 2, maxQueue: 100 });
 * const roots = await Promise.all([1, 4, 9].map((x) => pool.call('sqrt', [x])));   // [1, 2, 3]
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  readonly #o: WorkerOptions;
  readonly #size: number;
  readonly #maxQueue: number;
  readonly #concurrency: number;
  #workers: PythonWorker[] = [];
  #queue: Job[] = [];
  #running = 0;
  #restarting = 0;
  #restartDelay = RESTART_MIN_MS;
  #state: 'running' | 'closing' | 'closed' = 'running';
  #idle: (() => void) | undefined;

  private constructor(o: WorkerOptions, size: number, maxQueue: number, concurrency: number) {
    this.#o = o;
    this.#size = size;
    this.#maxQueue = maxQueue;
    this.#concurrency = concurrency;
  }

  /**
   * Starts `size` workers of the module (all must start).
   * @throws as {@link PythonWorker.start}; workers that did start are closed first
   * @throws {TypeError|RangeError} for bad options (`size`, `maxQueue`, `concurrency`…)
   * @example
   * ```ts
   * import { WorkerPool } from '@shmbridge/worker';
   * const pool = await WorkerPool.start({ module: 'math', size: 2, maxQueue: 64 });
   * console.log(pool.pids.length);        // 2
   * await pool.close();
   * ```
   */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const { size, maxQueue, concurrency, ...o } = parseArg(poolOptionsSchema, options, 'options');
    const pool = new WorkerPool(o, size ?? availableParallelism(), maxQueue, concurrency);
    const started = await Promise.allSettled(Array.from({ length: pool.#size }, () => PythonWorker.start(o)));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const workers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(workers.map((w) => w.close()));
      throw failed.reason;
    }
    for (const w of workers) pool.#adopt(w);
    return pool;
  }

  /** Number of workers the pool keeps running. */
  get size(): number {
    return this.#size;
  }

  /** Process ids of the live workers. */
  get pids(): number[] {
    return this.#workers.map((w) => w.pid);
  }

  /** Calls waiting for a free worker. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Calls running in a worker. */
  get active(): number {
    return this.#running;
  }

  /**
   * Same as {@link PythonWorker.call}, on the least busy worker.
   * @throws as {@link PythonWorker.call}
   * @throws `ERR_WORKER_QUEUE_FULL` when `maxQueue` calls are already waiting
   * @throws `ERR_WORKER_CLOSED` after `close()` or `kill()`
   * @example
   * ```ts
   * import { WorkerPool } from '@shmbridge/worker';
   * await using pool = await WorkerPool.start({ module: 'math', size: 1, maxQueue: 0 });
   * const busy = pool.call('factorial', [5000]);
   * await pool.call('sqrt', [4]).catch((err) => console.log(err.code));   // 'ERR_WORKER_QUEUE_FULL'
   * await busy;
   * ```
   */
  call<T = any>(fn: string, args: readonly unknown[] = [], kwargs: Readonly<Record<string, unknown>> = {}, options: CallOptions = {}): Promise<T> {
    if (this.#state !== 'running') return Promise.reject(workerClosed('This WorkerPool'));
    const { signal, timeoutMs } = options ?? {};
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));
    const free = this.#leastBusy();
    if (!free && this.#queue.length >= this.#maxQueue) return Promise.reject(queueFull(this.#maxQueue));
    return new Promise<T>((resolve, reject) => {
      const job: Job = { fn, args, kwargs, options, resolve: resolve as (v: unknown) => void, reject, controller: undefined, timer: undefined, onAbort: undefined, done: false };
      if (signal || timeoutMs !== undefined) {
        const controller = (job.controller = new AbortController());
        if (signal) {
          job.onAbort = () => this.#abort(job, signal.reason);
          signal.addEventListener('abort', job.onAbort, { once: true });
        }
        if (typeof timeoutMs === 'number' && timeoutMs > 0) job.timer = setTimeout(() => this.#abort(job, TIMEOUT), timeoutMs);
        void controller; // aborted by #abort, read by #run
      }
      if (free) this.#run(job, free);
      else this.#queue.push(job);
    });
  }

  /**
   * Closes gracefully: refuses new calls, lets queued and running ones finish,
   * then closes every worker. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'running') this.#state = 'closing';
    if (this.#queue.length || this.#running) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#state = 'closed';
    await Promise.all(this.#workers.map((w) => w.close()));
  }

  /** Kills every worker now; queued calls reject with `ERR_WORKER_CLOSED`, running ones with `ERR_WORKER_EXITED`. */
  kill(): void {
    this.#state = 'closed';
    for (const job of this.#queue.splice(0)) this.#settle(job, workerClosed('This WorkerPool'));
    for (const w of this.#workers) w.kill();
  }

  /** `await using pool = await WorkerPool.start(…)` closes it gracefully. */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  #leastBusy(): PythonWorker | undefined {
    let best: PythonWorker | undefined;
    for (const w of this.#workers) {
      if (w.running && w.pending < this.#concurrency && (!best || w.pending < best.pending)) best = w;
    }
    return best;
  }

  #run(job: Job, w: PythonWorker): void {
    this.#running++;
    const { signal: _signal, timeoutMs: _timeout, ...rest } = job.options ?? {};
    const options: CallOptions = job.controller ? { ...rest, signal: job.controller.signal } : rest;
    w.call(job.fn, job.args, job.kwargs, options).then(
      (value) => this.#settle(job, undefined, value),
      (err: CodedError) => this.#settle(job, err.code === 'ABORT_ERR' && err.cause === TIMEOUT ? workerTimeout(job.fn, job.options.timeoutMs!) : err),
    ).finally(() => {
      this.#running--;
      this.#dispatch();
    });
  }

  #abort(job: Job, reason: unknown): void {
    if (job.done) return;
    const at = this.#queue.indexOf(job);
    if (at >= 0) {
      this.#queue.splice(at, 1);
      this.#settle(job, reason === TIMEOUT ? workerTimeout(job.fn, job.options.timeoutMs!) : abortError(reason));
      this.#checkIdle();
      return;
    }
    job.controller!.abort(reason); // running: the worker cancels it (and its reject comes back through #run)
  }

  #settle(job: Job, err: unknown, value?: unknown): void {
    if (job.done) return;
    job.done = true;
    if (job.timer) clearTimeout(job.timer);
    if (job.onAbort) job.options.signal!.removeEventListener('abort', job.onAbort);
    if (err === undefined) job.resolve(value);
    else job.reject(err);
  }

  #dispatch(): void {
    while (this.#queue.length) {
      const w = this.#leastBusy();
      if (!w) break;
      this.#run(this.#queue.shift()!, w);
    }
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#idle && !this.#queue.length && !this.#running) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  #adopt(w: PythonWorker): void {
    this.#workers.push(w);
    void w.exited.then(() => {
      this.#workers = this.#workers.filter((x) => x !== w);
      if (this.#state === 'closed' || (this.#state === 'closing' && !this.#queue.length)) return;
      this.#replace();
    });
    this.#dispatch();
  }

  /** Starts a worker in place of one that died, retrying with backoff while starts fail. */
  #replace(): void {
    this.#restarting++;
    PythonWorker.start(this.#o).then(
      (w) => {
        this.#restarting--;
        this.#restartDelay = RESTART_MIN_MS;
        if (this.#state === 'closed') return void w.close();
        this.#adopt(w);
      },
      (err: unknown) => {
        this.#restarting--;
        // Nothing can run the queued calls: fail them rather than leave them hanging.
        if (this.#workers.length === 0 && this.#restarting === 0) {
          for (const job of this.#queue.splice(0)) this.#settle(job, err);
          this.#checkIdle();
        }
        if (this.#state === 'closed') return;
        const delay = this.#restartDelay;
        this.#restartDelay = Math.min(delay * 2, RESTART_MAX_MS);
        setTimeout(() => this.#state !== 'closed' && this.#replace(), delay).unref();
      },
    );
  }
}
