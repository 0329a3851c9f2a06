/**
 * @shmbridge/core: Python's `multiprocessing.shared_memory` for Node.js.
 * @packageDocumentation
 */
export { SharedMemory, unlinkBlock } from './shared-memory.js';
export type { SharedMemoryOptions, CreateOptions, SharedMemoryHandle } from './shared-memory.js';
export { checkName, generateName, MAX_NAME_BYTES, NAME_PREFIX } from './names.js';
export type { TypedArray, TypedArrayConstructor, ViewOptions } from './views.js';
export { authError, closedError, connectionError, corruptError, describe, invalidArgType, invalidArgValue, outOfRange, syscallError } from './errors.js';
export type { SyscallError, CodedError } from './errors.js';
export { parseArg, parseHandle } from './validate.js';
