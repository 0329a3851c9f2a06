/**
 * Every error shmbridge throws is made here, in the shapes Node users already
 * handle: fs-style errors with `code`/`errno`/`syscall`/`path` for failed
 * syscalls, and Node's `ERR_*` codes for bad arguments and misuse.
 */
import { getSystemErrorMap, inspect } from 'node:util';

/** An `Error` from a failed syscall, shaped like the ones `node:fs` throws. */
export interface SyscallError extends Error {
  /** The errno name: `'ENOENT'`, `'EEXIST'`, `'EACCES'`, `'ENOSPC'`, … */
  code: string;
  /** The negative errno number, as Node reports it. */
  errno: number;
  /** The call that failed: `'shm_open'`, `'ftruncate'`, `'mmap'`, … */
  syscall: string;
  /** The block's name (no leading slash). */
  path: string;
}

/** An error of shmbridge's own, with a stable `code` to branch on. */
export interface CodedError extends Error {
  code: string;
}

const systemErrors = getSystemErrorMap();

/**
 * The error for a syscall that returned `-errno`.
 * @param result the negative errno the native layer returned
 * @param syscall the call's name, for `err.syscall`
 * @param name the block's name, for `err.path` and the message
 */
export function syscallError(result: number, syscall: string, name: string): SyscallError {
  const errno = result < 0 ? result : -result;
  const [code, description] = systemErrors.get(errno) ?? [`Unknown system error ${errno}`, 'unknown error'];
  const err = new Error(`${code}: ${description}, ${syscall} '${name}'`) as SyscallError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  err.path = name;
  Error.captureStackTrace?.(err, syscallError);
  return err;
}

/** Short, single-line rendering of a received value for messages. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (typeof value === 'object') {
    const ctor = (value as object).constructor?.name;
    return ctor ? `an instance of ${ctor}` : inspect(value, { depth: 0, breakLength: Infinity });
  }
  let shown = inspect(value, { breakLength: Infinity });
  if (shown.length > 40) shown = `${shown.slice(0, 37)}...`;
  return `type ${typeof value} (${shown})`;
}

function coded<E extends Error>(err: E, code: string): E & CodedError {
  return Object.assign(err, { code });
}

/** `TypeError` `ERR_INVALID_ARG_TYPE`: an argument of the wrong type. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & CodedError {
  return coded(new TypeError(`The "${name}" argument must be ${expected}. Received ${describe(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** `TypeError` `ERR_INVALID_ARG_VALUE`: an argument of the right type but an unusable value. */
export function invalidArgValue(name: string, reason: string, actual: unknown): TypeError & CodedError {
  return coded(new TypeError(`The "${name}" argument ${reason}. Received ${describe(actual)}`), 'ERR_INVALID_ARG_VALUE');
}

/** `RangeError` `ERR_OUT_OF_RANGE`: a number or length outside what is allowed. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & CodedError {
  return coded(new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${describe(actual)}`), 'ERR_OUT_OF_RANGE');
}

/**
 * `Error` `ERR_VALUE_NOT_FOUND`, named `ValueError`: a value looked up in a
 * container that does not hold it — CPython's `ValueError: 'x' not in this
 * container` (`ShareableList.index`), with the same message.
 * @param repr the value as Python's `repr()` shows it
 */
export function valueNotFound(repr: string): CodedError {
  const err = coded(new Error(`${repr} not in this container`), 'ERR_VALUE_NOT_FOUND');
  err.name = 'ValueError';
  return err;
}

/**
 * `TypeError` `ERR_SHM_DTYPE_MISMATCH`: a tensor block holds another dtype
 * than the caller said it expects (`Tensor.attach(name, { dtype })`).
 */
export function dtypeMismatch(name: string, expected: string, actual: string): TypeError & CodedError {
  return coded(new TypeError(`Tensor '${name}' holds ${actual}, not ${expected} (options.dtype)`), 'ERR_SHM_DTYPE_MISMATCH');
}

/** `Error` `ERR_SHM_CLOSED`: a closed block (or list, tensor…) was used. */
export function closedError(what: string, name: string): CodedError {
  return coded(new Error(`${what} '${name}' is closed`), 'ERR_SHM_CLOSED');
}

/**
 * `Error` `ERR_SHM_CORRUPT`: a block's contents do not parse. Blocks written by
 * another process are untrusted input; this is how every reader refuses them.
 */
export function corruptError(name: string, what: string): CodedError {
  return coded(new Error(`Shared memory block '${name}' is corrupt: ${what}`), 'ERR_SHM_CORRUPT');
}

/**
 * `Error` `ERR_PICKLE_REJECTED`: a pickle asks for something shmbridge will not
 * do — a global outside the allow-list (`os.system`…), persistent ids,
 * extension codes, out-of-band buffers. Refused before any side effect.
 */
export function pickleRejected(what: string): CodedError {
  return coded(new Error(`pickle rejected: ${what}`), 'ERR_PICKLE_REJECTED');
}

/** `Error` `ERR_PICKLE_INVALID`: bytes that are not a well-formed pickle (truncated, garbage, too deep). */
export function pickleInvalid(what: string): CodedError {
  return coded(new Error(`invalid pickle: ${what}`), 'ERR_PICKLE_INVALID');
}

/**
 * `AuthenticationError` `ERR_SHM_AUTH`: a manager handshake failed (wrong
 * authkey, or a peer that does not speak `multiprocessing.connection`'s
 * challenge). Named like CPython's `multiprocessing.AuthenticationError`.
 */
export function authError(message: string): CodedError {
  const err = coded(new Error(message), 'ERR_SHM_AUTH');
  err.name = 'AuthenticationError';
  return err;
}

/** `Error` `ERR_SHM_CONNECTION`: a manager connection ended or sent a malformed frame. */
export function connectionError(message: string): CodedError {
  return coded(new Error(message), 'ERR_SHM_CONNECTION');
}

/** `Error` `ERR_SHM_MANAGER_STATE`: a SharedMemoryManager call that does not fit its state (no address yet, started twice, shut down). */
export function managerStateError(what: string): CodedError {
  return coded(new Error(`SharedMemoryManager ${what}`), 'ERR_SHM_MANAGER_STATE');
}
