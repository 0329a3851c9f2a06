/**
 * Arrow tables in shared memory: `shareTable` writes an apache-arrow `Table`
 * as one Arrow IPC stream in a new block (buffers 64-byte aligned, the block
 * exactly as large as the stream); `attachTable` returns a `Table` whose
 * column data are views into a block — zero-copy — whether shmbridge or
 * pyarrow wrote it.
 */
import { tableFromIPC, type Table, type TypeMap } from 'apache-arrow';
import { z } from 'zod';
import { SharedMemory, checkName, corruptError, invalidArgType, invalidArgValue, outOfRange, parseHandle, type CreateOptions } from '@shmbridge/core';
import { adoptTable, schemaSignature } from './adopt.js';
import { align64, walkStream } from './ipc-stream.js';
import { streamPieces } from './serialize.js';
import { validateBatches, type ValidateOptions } from './validate.js';

/** A table's handle: `attachTable(handle)` here, `shmbridge.table(handle)` in Python. */
export interface TableHandle {
  name: string;
  kind: 'arrow';
}

const handleSchema = z.object({ name: z.string().min(1), kind: z.literal('arrow').optional() });

/** Blocks behind attached tables, so they can be closed explicitly. */
const blocks = new WeakMap<object, SharedMemory>();

/**
 * Writes `table` into a new block as an Arrow IPC stream whose buffers all
 * start on 64-byte boundaries; pyarrow reads it zero-copy with
 * `pa.ipc.open_stream(pa.py_buffer(shm.buf))`, Python's helper with
 * `shmbridge.table(name)`.
 * @param options block options (`name`, `track`, …)
 * @returns the block (its creator unlinks it) and its handle
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE` if `table` is not an apache-arrow Table, before anything is created
 * @example
 * ```ts
 * import { tableFromArrays } from 'apache-arrow';
 * import { shareTable, attachTable } from '@shmbridge/arrow';
 * const { shm, handle } = shareTable(tableFromArrays({ x: Float64Array.from([1, 2, 3]) }));
 * const t = attachTable(handle);       // zero-copy views of shm's memory
 * t.getChild('x')!.get(2);             // 3
 * shm.close().unlink();
 * ```
 */
export function shareTable<T extends TypeMap>(table: Table<T>, options: CreateOptions = {}): { shm: SharedMemory; handle: TableHandle } {
  // Validate arguments. Duck-typed: a Table from another copy of apache-arrow
  // (a CommonJS program's require) is still a table, rebuilt in ours.
  const t = table as Partial<Table> | null;
  if (t === null || typeof t !== 'object' || typeof t.schema !== 'object' || !Array.isArray(t.batches)) throw invalidArgType('table', 'an apache-arrow Table', table);
  const ours = adoptTable(table);
  // The column data is copied once: from the table's buffers into the block.
  const plan = align64(streamPieces(ours));
  const shm = SharedMemory.create(plan.byteLength, options);
  try {
    plan.writeTo(shm.view(Uint8Array));
    // Never hand out a block that does not read back as the table it was
    // made from: same schema (every type parameter), same number of rows.
    const back = readTable(shm.view(Uint8Array), shm.name, { maxZeroWidthRows: Infinity });
    if (back.numRows !== ours.numRows || schemaSignature(back.schema) !== schemaSignature(table.schema)) {
      throw invalidArgValue('table', `could not be written faithfully (it reads back as ${String(back.schema)}, ${back.numRows} rows)`, table);
    }
  } catch (err) {
    shm.close().unlink();
    throw err;
  }
  return { shm, handle: { name: shm.name, kind: 'arrow' } };
}

/**
 * The table held in `bytes` (an Arrow IPC stream from its first byte: a
 * block's view, or a copy of one), checked before apache-arrow reads
 * anything; column data are views of `bytes`. For tools that read a block
 * without mapping it; {@link attachTable} is this over a mapping.
 * @param name the block's name, for error messages
 * @throws `ERR_SHM_CORRUPT` if `bytes` do not start with a complete, valid stream
 * @example
 * ```ts
 * import { tableFromArrays } from 'apache-arrow';
 * import { readTable, shareTable } from '@shmbridge/arrow';
 * const { shm } = shareTable(tableFromArrays({ x: Float64Array.from([1, 2]) }));
 * readTable(Buffer.from(shm.buf), shm.name).numRows;   // 2, from a copy
 * shm.close().unlink();
 * ```
 */
export function readTable<T extends TypeMap = any>(bytes: Uint8Array, name: string, options: ValidateOptions = {}): Table<T> {
  const limit = options.maxZeroWidthRows;
  if (limit !== undefined && !(limit >= 0 && (Number.isSafeInteger(limit) || limit === Infinity))) {
    throw outOfRange('options.maxZeroWidthRows', 'a non-negative integer or Infinity', limit);
  }
  // Every length, offset and buffer size is checked before apache-arrow reads anything.
  const { messages, end } = walkStream(bytes, name);
  validateBatches(bytes, messages, name, options);
  try {
    return tableFromIPC<T>(bytes.subarray(0, end));
  } catch (err) {
    throw corruptError(name, `apache-arrow cannot read the stream: ${(err as Error).message}`);
  }
}

/**
 * Attaches to a block holding an Arrow IPC stream (written by `shareTable`,
 * by Python's `shmbridge.share_table`, or by pyarrow into any block) and
 * returns an apache-arrow `Table` over its memory, without copying. The
 * block stays mapped while the table is reachable; {@link closeTable} unmaps
 * it at once (the table's columns then read zeros).
 * @param options `maxZeroWidthRows`: most rows a batch of only Null columns may claim (default 2^20; see {@link ValidateOptions})
 * @throws {TypeError} `ERR_INVALID_HANDLE` for a malformed handle, before any syscall
 * @throws `ERR_SHM_CORRUPT` for a block that is not a complete, valid stream
 */
export function attachTable<T extends TypeMap = any>(nameOrHandle: string | TableHandle, options: ValidateOptions = {}): Table<T> {
  const name = typeof nameOrHandle === 'string' ? checkName(nameOrHandle) : checkName(parseHandle(handleSchema, nameOrHandle, 'table handle').name, 'handle.name');
  const shm = SharedMemory.attach(name);
  try {
    const table = readTable<T>(shm.view(Uint8Array), name, options);
    blocks.set(table, shm);
    return table;
  } catch (err) {
    shm.close();
    throw err;
  }
}

/** The block behind a table from {@link attachTable}. */
export function tableBlock(table: Table): SharedMemory | undefined {
  return blocks.get(table);
}

/** Unmaps the block behind a table from {@link attachTable} now, rather than when the table is collected. */
export function closeTable(table: Table): void {
  blocks.get(table)?.close();
}
