/**
 * The errors a worker call can end with, each with a stable `code`. Argument
 * errors use core's constructors (`ERR_INVALID_ARG_TYPE`…); these are the
 * worker's own. (They live here rather than in core's errors.ts because only
 * this package makes them; see the issue-12 report.)
 */
import type { CodedError } from '@shmbridge/core';

/** How a worker process ended: its exit code, or the signal that killed it. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * An exception raised in Python: a call's (`ERR_PYTHON_EXCEPTION`) or the
 * module's own at import (`ERR_WORKER_START_FAILED`).
 *
 * @example
 * ```ts
 * import { PythonError, PythonWorker } from '@shmbridge/worker';
 * await using w = await PythonWorker.start({ module: 'math' });
 * try {
 *   await w.call('sqrt', [-1]);
 * } catch (err) {
 *   if (err instanceof PythonError) console.log(err.type, err.pythonMessage);   // 'ValueError' 'math domain error'
 * }
 * ```
 */
export class PythonError extends Error {
  /** `'ERR_PYTHON_EXCEPTION'` for a call, `'ERR_WORKER_START_FAILED'` for an import that raised. */
  readonly code: 'ERR_PYTHON_EXCEPTION' | 'ERR_WORKER_START_FAILED';
  /** The exception's class name, e.g. `'ValueError'`, `'ModuleNotFoundError'`. */
  readonly type: string;
  /** `str(exception)`, as Python prints it after the type. */
  readonly pythonMessage: string;
  /** The traceback as Python formats it (`traceback.format_exception`). */
  readonly traceback: string;

  /** @internal */
  constructor(type: string, message: string, traceback: string, code: PythonError['code'] = 'ERR_PYTHON_EXCEPTION', prefix = '') {
    super(`${prefix}${type}${message ? `: ${message}` : ''}`);
    this.name = 'PythonError';
    this.code = code;
    this.type = type;
    this.pythonMessage = message;
    this.traceback = traceback;
  }
}

function coded(message: string, code: string, extra: object = {}): CodedError {
  return Object.assign(new Error(message), { code }, extra);
}

/** `ERR_WORKER_EXITED`: the worker died with the call pending (exit code, signal, the last lines of its stderr). */
export function workerExited(exit: WorkerExit, stderr: string, why = ''): CodedError & { exitCode: number | null; signal: NodeJS.Signals | null; stderr: string } {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const tail = stderr.trimEnd();
  const message = `The Python worker ${how}${why}${tail ? `; its stderr ended with:\n${tail}` : ''}`;
  return Object.assign(coded(message, 'ERR_WORKER_EXITED'), { exitCode: exit.code, signal: exit.signal, stderr });
}

/** `ERR_WORKER_START_FAILED`: the worker did not start (no interpreter, exited before it was ready, too slow). */
export function startFailed(message: string, stderr: string, cause?: unknown): CodedError & { stderr: string } {
  const tail = stderr.trimEnd();
  const err = coded(`${message}${tail ? `; its stderr ended with:\n${tail}` : ''}`, 'ERR_WORKER_START_FAILED', { stderr });
  if (cause !== undefined) Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  return err as CodedError & { stderr: string };
}

/** `ERR_WORKER_TIMEOUT`: a call ran past its `timeoutMs`. */
export function workerTimeout(fn: string, timeoutMs: number): CodedError & { timeoutMs: number } {
  return Object.assign(coded(`The call to '${fn}' timed out after ${timeoutMs} ms`, 'ERR_WORKER_TIMEOUT'), { timeoutMs });
}

/** An `AbortError` (`ABORT_ERR`), shaped like the ones Node's own APIs reject with; `cause` is the signal's reason. */
export function abortError(reason: unknown): CodedError {
  const err = coded('The operation was aborted', 'ABORT_ERR');
  err.name = 'AbortError';
  Object.defineProperty(err, 'cause', { value: reason, configurable: true, writable: true });
  return err;
}

/** `ERR_WORKER_NO_SUCH_FUNCTION`: the module has no callable of that name. */
export function noSuchFunction(message: string): CodedError {
  return coded(message, 'ERR_WORKER_NO_SUCH_FUNCTION');
}

/** `ERR_WORKER_PROTOCOL`: a frame that breaks the protocol; the worker is killed. */
export function protocolError(message: string): CodedError {
  return coded(`Worker protocol error: ${message}`, 'ERR_WORKER_PROTOCOL');
}

/** `ERR_WORKER_CLOSED`: a call after `close()` or `kill()`. */
export function workerClosed(what: string): CodedError {
  return coded(`${what} is closed`, 'ERR_WORKER_CLOSED');
}

/** `ERR_WORKER_QUEUE_FULL`: a pool's queue holds `maxQueue` calls already. */
export function queueFull(maxQueue: number): CodedError & { maxQueue: number } {
  return Object.assign(coded(`The worker pool's queue is full (${maxQueue} calls waiting); retry when calls complete, or raise maxQueue`, 'ERR_WORKER_QUEUE_FULL'), { maxQueue });
}
