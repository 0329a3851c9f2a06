/**
 * @shmbridge/python-compat: CPython's ShareableList, value helpers, handles
 * and SharedMemoryManager, byte- and wire-compatible with CPython.
 * @packageDocumentation
 */
export { ShareableList } from './shareable-list/shareable-list.js';
export type { ShareableListHandle, ShareableListOptions } from './shareable-list/shareable-list.js';
export type { LayoutKind } from './shareable-list/layout.js';
export { py, PyBytes, PyFloat, PyInt, pyEquals } from './py.js';
export type { PyInput, PyValue } from './py.js';
