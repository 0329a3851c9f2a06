/**
 * `PythonWorker`: one long-lived Python process (`python -m shmbridge.worker
 * MODULE`) that Node calls like an async function.
 *
 * The channel is two extra pipes (fd 3: Node → Python, fd 4: Python → Node),
 * not stdout: what user code prints is plain output, forwarded to this
 * process's stderr or `onOutput`, and cannot corrupt a message. Messages are
 * length-prefixed frames (frames.ts) checked against `maxFrameBytes` on both
 * sides; a frame that breaks the protocol kills that worker, never this
 * process. Python serves calls in order, so each reply answers the oldest call
 * still outstanding, and calls pipeline: many may be in the pipe at once.
 *
 * Cancellation does not travel on the channel: a small control block, mapped
 * by both sides, holds one slot per outstanding call; Node writes the call's id
 * into its slot and `worker.cancelled()` in Python reads it, with no reader
 * thread on the Python side (a thread hand-off per call would cost as much as
 * the call). A cancelled call that keeps running past `cancelGraceMs` gets the
 * worker killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { SharedMemory, invalidArgType, parseArg, type CodedError } from '@shmbridge/core';
import {
  PythonError, abortError, noSuchFunction, protocolError, startFailed, workerClosed, workerExited, workerTimeout, type WorkerExit,
} from './errors.js';
import { FRAME, FrameReader, RESULT_HAS_PAYLOAD, RESULT_HAS_REFS } from './frames.js';
import { workerPythonPath } from './helper.js';
import { readMarshal } from './marshal.js';
import { workerOptionsSchema, type ParsedWorkerOptions, type WorkerOptions } from './options.js';
import { callFrame, markNameless, readResult, releaseFrame, unlinkIfThere } from './values.js';

/** Slots in the control block, so at most this many calls are in the pipe at once (more wait here). */
const RING = 4096;
const STDERR_TAIL = 4096;
/** After the process exits, how long its last output may take to arrive before pending calls are rejected. */
const DRAIN_MS = 200;
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose');

/** What `worker.progress(current, total, message)` in Python reports. */
export interface Progress {
  current: number;
  total: number | null;
  message: string | null;
}

/** Options of one {@link PythonWorker.call}. */
export interface CallOptions {
  /** Aborting it rejects the call with an `AbortError` and cancels it in Python (then kills the worker after `cancelGraceMs`). */
  signal?: AbortSignal;
  /** Rejects with `ERR_WORKER_TIMEOUT` after this long, and cancels the call as `signal` does. */
  timeoutMs?: number;
  /** Called for each `worker.progress(...)` the call makes in Python. */
  onProgress?: (progress: Progress) => void;
}

interface Call {
  id: number;
  fn: string;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  settled: boolean;
  /** In the pipe (else waiting in the backlog with its frame). */
  sent: boolean;
  frame: Buffer | undefined;
  /** Blocks made for its arguments: unlinked once Python has answered. */
  temps: SharedMemory[] | undefined;
  onProgress: ((progress: Progress) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  grace: NodeJS.Timeout | undefined;
  cancelled: boolean;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

type State = 'starting' | 'running' | 'closing' | 'exited';

function releaseTemps(temps: SharedMemory[] | undefined): void {
  if (!temps) return;
  for (const shm of temps) unlinkIfThere(shm.close().name);
}

/**
 * A long-lived Python process serving a module's functions. Tensors, tables
 * and lists cross by name (zero-copy); only small messages use the pipe.
 *
 * @example
 * ```ts
 * import { PythonWorker } from '@shmbridge/worker';
 * await using w = await PythonWorker.start({ module: 'math' });   // or a file: { module: 'model.py' }
 * console.log(await w.call('hypot', [3, 4]));                      // 5
 * ```
 */
export class PythonWorker implements AsyncDisposable {
  readonly #o: ParsedWorkerOptions;
  readonly #child: ChildProcess;
  readonly #out: Writable;
  readonly #control: SharedMemory;
  readonly #slots: Uint32Array;
  readonly #reader: FrameReader;
  #state: State = 'starting';
  #inflight: Call[] = [];
  #head = 0;
  #backlog: Call[] = [];
  #nextId = 1;
  #stderr = '';
  #exit: WorkerExit | undefined;
  #failure: CodedError | undefined;
  #why = '';
  #ended = false;
  #userClosed = false;
  #active = true;
  #closeTimer: NodeJS.Timeout | undefined;
  #python: { version: string } | undefined;
  #ready!: { resolve: () => void; reject: (err: unknown) => void; promise: Promise<void> };
  #resolveExited!: (exit: WorkerExit) => void;

  /** Settles once the process is gone, with its exit code or signal; never rejects. */
  readonly exited: Promise<WorkerExit>;

  private constructor(o: ParsedWorkerOptions) {
    this.#o = o;
    this.exited = new Promise((resolve) => (this.#resolveExited = resolve));
    let resolveReady!: () => void;
    let rejectReady!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolveReady = res;
      rejectReady = rej;
    });
    this.#ready = { resolve: resolveReady, reject: rejectReady, promise };
    this.#reader = new FrameReader(o.maxFrameBytes, (body) => this.#onFrame(body));
    this.#control = SharedMemory.create(RING * 4);
    this.#slots = this.#control.view(Uint32Array);
    const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
    env.PYTHONPATH = workerPythonPath(env.PYTHONPATH);
    env.PYTHONUNBUFFERED = '1'; // prints reach Node as they happen, not when a buffer fills
    env.SHMBRIDGE_WORKER = `3,4,${this.#control.name},${RING},${o.maxFrameBytes},${o.arrays}`;
    this.#child = spawn(o.python, ['-m', 'shmbridge.worker', o.module], {
      cwd: o.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      // Its own session: a terminal's Ctrl-C (SIGINT to the foreground group)
      // is for Node, which decides when its workers stop; and with autogroup
      // scheduling (Linux) each worker gets its own CPU share, so a pool of N
      // scales even when other sessions load the machine. Its lifetime stays
      // tied to this process: EOF on the channel, PR_SET_PDEATHSIG.
      detached: true,
    });
    const [, stdout, stderr, toPython, fromPython] = this.#child.stdio as [null, Readable, Readable, Writable, Readable];
    this.#out = toPython;
    toPython.on('error', () => {}); // EPIPE once Python is gone: its exit is what counts
    fromPython.on('error', () => {});
    fromPython.on('data', (chunk: Buffer) => {
      try {
        this.#reader.push(chunk);
      } catch (err) {
        this.#protocolFailure(err);
      }
    });
    stdout.setEncoding('utf8').on('data', (text: string) => this.#output(text, 'stdout'));
    stderr.setEncoding('utf8').on('data', (text: string) => {
      this.#stderr = (this.#stderr + text).slice(-STDERR_TAIL);
      this.#output(text, 'stderr');
    });
    this.#child.on('error', (err) => {
      if (this.#state === 'starting') this.#ready.reject(startFailed(`Cannot start the Python worker with '${o.python}': ${err.message}`, '', err));
      // A process that never ran emits no 'exit'.
      if (this.#child.pid === undefined && this.#exit === undefined) this.#onExit({ code: null, signal: null });
    });
    this.#child.on('exit', (code, signal) => this.#onExit({ code, signal }));
  }

  /**
   * Starts a worker: spawns `python -m shmbridge.worker MODULE` with this
   * package's Python helper on PYTHONPATH and waits until the module is
   * imported. The module is imported once per worker: load models at its top level.
   * @throws {TypeError|RangeError} for bad options, before anything starts
   * @throws {PythonError} `ERR_WORKER_START_FAILED` if the module raised while importing (`type`, `traceback` say why)
   * @throws `ERR_WORKER_START_FAILED` if the interpreter cannot run, exits before it is ready, or takes longer than `startTimeoutMs`
   * @example
   * ```ts
   * import { PythonWorker } from '@shmbridge/worker';
   * const w = await PythonWorker.start({ module: 'json', python: 'python3' });
   * console.log(await w.call('dumps', [{ a: [1, 2] }]));   // '{"a": [1, 2]}'
   * await w.close();
   * ```
   */
  static async start(options: WorkerOptions): Promise<PythonWorker> {
    const o = parseArg(workerOptionsSchema, options, 'options');
    const w = new PythonWorker(o);
    const timer = setTimeout(() => {
      w.#ready.reject(startFailed(`The Python worker did not import '${o.module}' within ${o.startTimeoutMs} ms (startTimeoutMs)`, w.#stderr));
      w.#child.kill('SIGKILL');
    }, o.startTimeoutMs);
    try {
      await w.#ready.promise;
    } catch (err) {
      if (w.#exit === undefined) w.#child.kill('SIGKILL');
      await w.exited; // everything it made (the control block) is gone before start() rejects
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return w;
  }

  /** The worker's process id. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The interpreter's version, e.g. `'3.11.7'`. */
  get pythonVersion(): string {
    return this.#python?.version ?? '';
  }

  /** Calls sent or waiting to be sent that Python has not answered yet. */
  get pending(): number {
    return this.#inflight.length - this.#head + this.#backlog.length;
  }

  /** Whether calls are accepted (not closing, not exited). */
  get running(): boolean {
    return this.#state === 'running';
  }

  /**
   * Calls `fn(*args, **kwargs)` in the worker's module (`'name'`, or
   * `'obj.method'` for an attribute of the module).
   *
   * Arguments: a `Tensor` arrives as a numpy array over the same memory (writes
   * show in Node); typed arrays as numpy arrays (copied once into a block unless
   * their memory is one); `Uint8Array`/`Buffer` as bytes; an apache-arrow Table as
   * a pyarrow Table; `ShareableList` and `SharedMemory` as themselves; JSON-like
   * values as Python values. Results: numpy arrays and CPU torch tensors come back
   * as a `Tensor` (a view of an argument's block stays a view of it; anything else
   * arrives in a block only this process holds), pyarrow tables as apache-arrow
   * Tables over a block, bytes as `Uint8Array`, the rest as JS values (ints past
   * 2^53 as bigint).
   * @throws {PythonError} `ERR_PYTHON_EXCEPTION` when the function raises (`type`, `pythonMessage`, `traceback`)
   * @throws `ERR_WORKER_NO_SUCH_FUNCTION` when the module has no callable `fn`
   * @throws `ERR_WORKER_EXITED` when the worker dies first (`exitCode`, `signal`, `stderr`)
   * @throws `ERR_WORKER_TIMEOUT` after `timeoutMs`; an `AbortError` (`ABORT_ERR`) when `signal` aborts
   * @throws `ERR_WORKER_CLOSED` after `close()` or `kill()`
   * @throws {TypeError|RangeError} for an argument that cannot cross (nothing is sent)
   * @example
   * ```ts
   * import { Tensor } from '@shmbridge/core';
   * import { PythonWorker } from '@shmbridge/worker';
   * await using w = await PythonWorker.start({ module: 'numpy' });
   * using x = Tensor.create({ dtype: 'float64', shape: [3] });
   * x.data.set([1, 2, 3]);
   * console.log(await w.call('sum', [x]));                  // 6 (numpy summed Node's memory in place)
   * const y = await w.call('multiply', [x, 2]);             // a Tensor in a block Node owns
   * console.log([...y.data]);                               // [2, 4, 6]
   * y.close();
   * x.shm.unlink();
   * ```
   */
  call<T = any>(fn: string, args: readonly unknown[] = [], kwargs: Readonly<Record<string, unknown>> = {}, options: CallOptions = {}): Promise<T> {
    // Validate arguments (by hand: zod costs microseconds, a call's whole budget here)
    if (typeof fn !== 'string' || fn.length === 0) return Promise.reject(invalidArgType('fn', 'a non-empty string', fn));
    const fnBytes = Buffer.byteLength(fn);
    if (fnBytes > 0xffff) return Promise.reject(invalidArgType('fn', 'a function name of at most 65,535 bytes', fn));
    if (!Array.isArray(args)) return Promise.reject(invalidArgType('args', 'an array', args));
    if (kwargs === null || typeof kwargs !== 'object' || Array.isArray(kwargs)) return Promise.reject(invalidArgType('kwargs', 'a plain object', kwargs));
    if (options === null || typeof options !== 'object') return Promise.reject(invalidArgType('options', 'an object', options));
    const { signal, timeoutMs, onProgress } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) return Promise.reject(invalidArgType('options.signal', 'an AbortSignal', signal));
    if (timeoutMs !== undefined && !(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs < 2 ** 31)) return Promise.reject(invalidArgType('options.timeoutMs', 'a positive integer (ms)', timeoutMs));
    if (onProgress !== undefined && typeof onProgress !== 'function') return Promise.reject(invalidArgType('options.onProgress', 'a function', onProgress));
    if (this.#state !== 'running') return Promise.reject(this.#userClosed ? workerClosed('This PythonWorker') : this.#exitedError());
    if (signal?.aborted) return Promise.reject(abortError(signal.reason));

    // Encode (blocks made for arguments are unlinked if encoding fails halfway)
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    const temps: SharedMemory[] = [];
    let frame: Buffer;
    try {
      frame = callFrame(id, fn, fnBytes, args, kwargs, temps, this.#o.maxFrameBytes);
    } catch (err) {
      releaseTemps(temps);
      return Promise.reject(err);
    }

    return new Promise<T>((resolve, reject) => {
      const call: Call = {
        id, fn, resolve: resolve as (v: unknown) => void, reject, settled: false, sent: false, frame,
        temps: temps.length ? temps : undefined, onProgress, timer: undefined, grace: undefined, cancelled: false, signal, onAbort: undefined,
      };
      if (timeoutMs !== undefined) call.timer = setTimeout(() => this.#cancel(call, workerTimeout(fn, timeoutMs)), timeoutMs);
      if (signal) {
        call.onAbort = () => this.#cancel(call, abortError(signal.reason));
        signal.addEventListener('abort', call.onAbort, { once: true });
      }
      if (this.#inflight.length - this.#head < RING) this.#send(call);
      else this.#backlog.push(call);
      if (!this.#active) this.#setActive(true);
    });
  }

  /**
   * Closes gracefully: refuses new calls, lets every call already made finish,
   * then the process exits (it is killed if it takes more than `closeTimeoutMs`
   * once the calls are done). Idempotent.
   * @returns how the process ended
   */
  close(): Promise<WorkerExit> {
    this.#userClosed = true;
    if (this.#state === 'running' || this.#state === 'starting') {
      this.#state = 'closing';
      this.#maybeEnd();
    }
    return this.exited;
  }

  /** Kills the process now (SIGKILL); calls in flight reject with `ERR_WORKER_EXITED`. */
  kill(): void {
    this.#userClosed = true;
    if (this.#exit !== undefined) return;
    if (this.#state !== 'exited') this.#state = 'closing';
    this.#child.kill('SIGKILL');
  }

  /** `await using w = await PythonWorker.start(…)` closes it gracefully. */
  async [asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- sending

  #send(call: Call): void {
    call.sent = true;
    this.#slots[call.id & (RING - 1)] = 0; // a cancel mark left by an older call in this slot is not ours
    this.#inflight.push(call);
    const frame = call.frame!;
    call.frame = undefined;
    // Calls made in the same tick go out in one writev (one wake-up of Python for all of them).
    if (!this.#corked) {
      this.#corked = true;
      this.#out.cork();
      process.nextTick(this.#uncork);
    }
    this.#out.write(frame);
  }

  #corked = false;
  readonly #uncork = () => {
    this.#corked = false;
    this.#flushReleased();
    this.#out.uncork();
  };

  /**
   * Result blocks claimed but not yet announced. The RELEASE frame rides
   * along with the next call's write, or goes alone once this process is
   * idle (setImmediate): a frame of its own would wake Python once more per
   * result. Until then Python keeps the names registered, which is harmless.
   */
  #released: string[] = [];
  #releaseScheduled = false;

  #release(names: string[]): void {
    this.#released.push(...names);
    if (this.#releaseScheduled) return;
    this.#releaseScheduled = true;
    setImmediate(() => {
      this.#releaseScheduled = false;
      this.#flushReleased();
    }).unref();
  }

  #flushReleased(): void {
    if (!this.#released.length || this.#exit || this.#ended) return;
    const names = this.#released;
    this.#released = [];
    this.#out.write(releaseFrame(names));
  }

  #maybeEnd(): void {
    if (this.#state !== 'closing' || this.#ended || this.#backlog.length) return;
    this.#flushReleased();
    this.#ended = true;
    this.#setActive(true);
    // Python serves what is already in the pipe, then sees EOF and exits.
    this.#out.end();
    this.#armCloseTimer();
  }

  #armCloseTimer(): void {
    if (!this.#ended || this.#closeTimer || this.#inflight.length > this.#head || this.#exit) return;
    this.#closeTimer = setTimeout(() => this.#child.kill('SIGKILL'), this.#o.closeTimeoutMs);
  }

  // --- receiving

  #onFrame(body: Buffer): void {
    switch (body[0]) {
      case FRAME.RESULT: return this.#onResult(body);
      case FRAME.ERROR: {
        const call = this.#takeHead(body);
        const [type, message, traceback] = this.#tuple(body, 3);
        return this.#finish(call, new PythonError(String(type), String(message), String(traceback)));
      }
      case FRAME.NOFUNC: {
        const call = this.#takeHead(body);
        return this.#finish(call, noSuchFunction(String(readMarshal(body, 5, body.length))));
      }
      case FRAME.CANCELLED: {
        const call = this.#takeHead(body);
        return this.#finish(call, abortError(undefined));
      }
      case FRAME.PROGRESS: return this.#onProgress(body);
      case FRAME.READY: {
        if (this.#state !== 'starting' && !(this.#state === 'closing' && !this.#python)) throw protocolError('a second READY frame');
        const [version] = this.#tuple(body, 2, 1);
        this.#python = { version: String(version) };
        // Python has mapped the control block: its name can go, so nobody can leak it.
        this.#control.unlink();
        if (this.#state === 'starting') this.#state = 'running';
        this.#setActive(false);
        this.#ready.resolve();
        return;
      }
      case FRAME.FAILED: {
        if (this.#state !== 'starting') throw protocolError('a FAILED frame after start');
        const [type, message, traceback] = this.#tuple(body, 3, 1);
        this.#ready.reject(new PythonError(String(type), String(message), String(traceback), 'ERR_WORKER_START_FAILED', `The Python worker could not import '${this.#o.module}': `));
        return;
      }
      case FRAME.FATAL: {
        this.#failure = protocolError(`the worker refused a frame from Node: ${String(readMarshal(body, 1, body.length))}`);
        return;
      }
      default:
        throw protocolError(`unknown frame type 0x${(body[0] ?? 0).toString(16)}`);
    }
  }

  #tuple(body: Buffer, n: number, at = 5): unknown[] {
    const v = readMarshal(body, at, body.length);
    if (!Array.isArray(v) || v.length !== n) throw protocolError(`frame 0x${body[0]!.toString(16)} without its ${n}-tuple`);
    return v;
  }

  /** The call a reply answers: always the oldest outstanding one (Python serves in order). */
  #takeHead(body: Buffer): Call {
    if (body.length < 5) throw protocolError(`a reply frame of ${body.length} bytes`);
    const id = body.readUInt32LE(1);
    const call = this.#inflight[this.#head];
    if (!call || call.id !== id) throw protocolError(`a reply to call ${id}, expected ${call ? call.id : 'none'}`);
    this.#inflight[this.#head++] = undefined as unknown as Call;
    if (this.#head > 1024 && this.#head * 2 > this.#inflight.length) {
      this.#inflight = this.#inflight.slice(this.#head);
      this.#head = 0;
    }
    return call;
  }

  #onResult(body: Buffer): void {
    const call = this.#takeHead(body);
    if (body.length < 6) throw protocolError('a RESULT frame without flags');
    const flags = body[5]!;
    if (!(flags & RESULT_HAS_PAYLOAD)) return this.#finish(call, undefined, null);
    if (!(flags & RESULT_HAS_REFS)) {
      let value: unknown;
      try {
        value = readMarshal(body, 6, body.length);
      } catch (err) {
        this.#finish(call, err);
        throw err;
      }
      return this.#finish(call, undefined, value);
    }
    const claimed: string[] = [];
    const views: SharedMemory[] = [];
    let value: unknown;
    let error: unknown;
    try {
      value = readResult(body, 6, claimed, views);
    } catch (err) {
      error = err;
    }
    if (claimed.length) this.#release(claimed);
    // A view of a block made for this call outlives the block's name, unlinked in #finish.
    if (views.length && call.temps) {
      const temp = new Set(call.temps.map((t) => t.name));
      for (const shm of views) if (temp.has(shm.name)) markNameless(shm);
    }
    this.#finish(call, error, value);
    if ((error as CodedError | undefined)?.code === 'ERR_WORKER_PROTOCOL') throw error;
  }

  #onProgress(body: Buffer): void {
    if (body.length < 5) throw protocolError(`a PROGRESS frame of ${body.length} bytes`);
    const call = this.#inflight[this.#head];
    if (!call || call.id !== body.readUInt32LE(1)) throw protocolError(`progress for call ${body.readUInt32LE(1)}, which is not running`);
    const [current, total, message] = this.#tuple(body, 3);
    if (call.settled || !call.onProgress) return;
    try {
      call.onProgress({ current: current as number, total: total as number | null, message: message as string | null });
    } catch (err) {
      this.#cancel(call, err); // a throwing handler fails its call, not this process
    }
  }

  /** Settles a call Python answered, frees what was made for it, moves the queue on. */
  #finish(call: Call, error: unknown, value?: unknown): void {
    this.#unwatch(call);
    releaseTemps(call.temps);
    call.temps = undefined;
    if (!call.settled) {
      call.settled = true;
      if (error === undefined) call.resolve(value);
      else call.reject(error);
    }
    this.#afterReply();
  }

  #afterReply(): void {
    while (this.#backlog.length && this.#inflight.length - this.#head < RING) this.#send(this.#backlog.shift()!);
    const head = this.#inflight[this.#head];
    if (head?.cancelled && !head.grace) this.#armGrace(head);
    if (this.#state === 'closing') {
      this.#maybeEnd();
      this.#armCloseTimer();
    }
    if (this.pending === 0 && this.#state === 'running') this.#setActive(false);
  }

  // --- cancelling

  #unwatch(call: Call): void {
    if (call.timer) clearTimeout(call.timer);
    if (call.grace) clearTimeout(call.grace);
    if (call.onAbort) call.signal!.removeEventListener('abort', call.onAbort);
    call.timer = call.grace = call.onAbort = undefined;
  }

  #cancel(call: Call, reason: unknown): void {
    if (call.settled) return;
    call.settled = true;
    call.cancelled = true;
    this.#unwatch(call);
    call.reject(reason);
    if (!call.sent) {
      this.#backlog.splice(this.#backlog.indexOf(call), 1);
      releaseTemps(call.temps);
      call.temps = undefined;
      if (this.pending === 0 && this.#state === 'running') this.#setActive(false);
      this.#maybeEnd();
      return;
    }
    if (this.#exit) return;
    this.#slots[call.id & (RING - 1)] = call.id; // worker.cancelled() is true from now on
    if (this.#inflight[this.#head] === call) this.#armGrace(call);
    // else: Python sees the mark before starting it, and answers CANCELLED at once.
  }

  #armGrace(call: Call): void {
    call.grace = setTimeout(() => {
      this.#why = `; it was killed because the cancelled call to '${call.fn}' did not stop within ${this.#o.cancelGraceMs} ms (cancelGraceMs)`;
      this.#child.kill('SIGKILL');
    }, this.#o.cancelGraceMs);
  }

  // --- failures and exit

  #protocolFailure(err: unknown): void {
    this.#failure ??= (err as CodedError).code === 'ERR_WORKER_PROTOCOL' ? (err as CodedError) : protocolError(String(err));
    this.#child.kill('SIGKILL');
  }

  #exitedError(): CodedError {
    const exit = this.#exit ?? { code: null, signal: null };
    if (this.#failure) return Object.assign(protocolError(this.#failure.message.replace(/^Worker protocol error: /, '')), { exitCode: exit.code, signal: exit.signal, stderr: this.#stderr });
    return workerExited(exit, this.#stderr, this.#why);
  }

  #onExit(exit: WorkerExit): void {
    this.#exit = exit;
    if (this.#closeTimer) clearTimeout(this.#closeTimer);
    // 'exit' can come before the last frames and the last stderr lines (a
    // traceback) are read: wait for both pipes to end, but not for long — a
    // process the worker started may hold its stderr open.
    const ended = [this.#child.stdio[4] as Readable, this.#child.stderr!].map((s) =>
      new Promise<void>((resolve) => {
        if (s.readableEnded || s.destroyed) return resolve();
        s.once('end', resolve).once('close', resolve);
      }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
    void Promise.race([Promise.all(ended), late]).then(() => {
      clearTimeout(timer);
      this.#finalize();
    });
  }

  #finalize(): void {
    const starting = this.#state === 'starting' || (this.#state === 'closing' && !this.#python);
    this.#state = 'exited';
    if (starting) {
      const exit = this.#exit!;
      this.#ready.reject(this.#failure ?? startFailed(`The Python worker ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`} before it was ready`, this.#stderr));
    }
    const calls = [...this.#inflight.slice(this.#head), ...this.#backlog];
    this.#inflight = [];
    this.#head = 0;
    this.#backlog = [];
    for (const call of calls) {
      this.#unwatch(call);
      releaseTemps(call.temps);
      call.temps = undefined;
      if (!call.settled) {
        call.settled = true;
        call.reject(this.#exitedError());
      }
    }
    unlinkIfThere(this.#control.close().name);
    this.#resolveExited(this.#exit!);
  }

  // --- output and liveness

  #output(text: string, stream: 'stdout' | 'stderr'): void {
    const handler = this.#o.onOutput;
    if (!handler) {
      process.stderr.write(text);
      return;
    }
    try {
      handler(text, stream);
    } catch (err) {
      process.emitWarning(`shmbridge: onOutput threw: ${(err as Error)?.message ?? err}`, 'ShmbridgeWarning');
    }
  }

  /**
   * An idle worker does not keep this process alive (like an unref'd timer):
   * a script that forgets `close()` still exits, and the worker then sees EOF
   * and exits too. While calls are pending (or it is starting or closing), it does.
   */
  #setActive(active: boolean): void {
    if (this.#active === active || this.#exit) return;
    this.#active = active;
    const handles = [this.#child, ...this.#child.stdio] as Array<{ ref?: () => void; unref?: () => void } | null>;
    for (const h of handles) {
      if (active) h?.ref?.();
      else h?.unref?.();
    }
  }
}
