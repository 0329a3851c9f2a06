/**
 * @shmbridge/core: Python's `multiprocessing.shared_memory` for Node.js.
 * @packageDocumentation
 */
export { SharedMemory, unlinkBlock } from './shared-memory.js';
export type { SharedMemoryOptions, CreateOptions, SharedMemoryHandle } from './shared-memory.js';
export { checkName, generateName, MAX_NAME_BYTES, NAME_PREFIX } from './names.js';
export type { TypedArray, TypedArrayConstructor, ViewOptions } from './views.js';
export {
  authError,
  closedError,
  connectionError,
  corruptError,
  describe,
  dtypeMismatch,
  invalidArgType,
  invalidArgValue,
  managerStateError,
  outOfRange,
  pickleInvalid,
  pickleRejected,
  syscallError,
  valueNotFound,
} from './errors.js';
export type { SyscallError, CodedError } from './errors.js';
export { argError, parseArg, parseHandle } from './validate.js';
export { Tensor } from './tensor/tensor.js';
export type { TensorAttachOptions, TensorCreateOptions, TensorHandle, TensorHandleInput, TensorOf } from './tensor/tensor.js';
export { dtypeOf } from './tensor/dtypes.js';
export type { ArrayOfDType, DType, DTypeName } from './tensor/dtypes.js';
export { formatNpyHeader, isNpy, parseNpyHeader } from './tensor/npy-header.js';
export type { NpyHeader } from './tensor/npy-header.js';
