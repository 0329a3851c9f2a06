/**
 * @shmbridge/python-compat: CPython's ShareableList, value helpers, handles
 * and SharedMemoryManager, byte- and wire-compatible with CPython.
 * @packageDocumentation
 */
export { ShareableList } from './shareable-list/shareable-list.js';
export type { ShareableListHandle, ShareableListOptions } from './shareable-list/shareable-list.js';
export type { LayoutKind } from './shareable-list/layout.js';
export { readShareableList } from './shareable-list/read-bytes.js';
export { pythonHelperPath } from './python-helper.js';
export type { ShareableListContents } from './shareable-list/read-bytes.js';
export { py, PyBytes, PyFloat, PyInt, PyTuple, pyEquals } from './py.js';
export type { PyInput, PyValue } from './py.js';
export { dumps, loads, PyCall, PyGlobal } from './pickle/index.js';
export type { LoadOptions } from './pickle/index.js';
export { fromPickle, toPickle } from './handles/pickles.js';
export { fromHandle } from './handles/json.js';
export type { Handle } from './handles/json.js';
export { MSGPACK_TYPES, registerMsgpackExtensions } from './handles/msgpack.js';
export { SharedMemoryManager } from './manager/shared-memory-manager.js';
export type { ManagerOptions, RemoteError } from './manager/shared-memory-manager.js';
export type { Address } from './manager/connection.js';
