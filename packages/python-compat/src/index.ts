/**
 * @shmbridge/python-compat: CPython's ShareableList, value helpers, handles
 * and SharedMemoryManager, byte- and wire-compatible with CPython.
 * @packageDocumentation
 */
export {};
