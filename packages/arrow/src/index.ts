/**
 * @shmbridge/arrow: Apache Arrow tables in shared memory, zero-copy between
 * Node (apache-arrow) and Python (pyarrow).
 * @packageDocumentation
 */
export { attachTable, closeTable, readTable, shareTable, tableBlock } from './table.js';
export type { TableHandle } from './table.js';
export type { ValidateOptions } from './validate.js';
export { align64, isArrowStream, walkStream } from './ipc-stream.js';
