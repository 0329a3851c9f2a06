/**
 * What `shmbridge show NAME` prints: a list's items, a table's schema and
 * first rows, a tensor's dtype, shape and first values, or a raw block's
 * first bytes — as plain data, so `--json` and the text form say the same.
 */
import { corruptError, dtypeOf, parseNpyHeader } from '@shmbridge/core';
import { readTable } from '@shmbridge/arrow';
import { readShareableList } from '@shmbridge/python-compat';
import { withBlockFile, WHOLE_LIMIT, type BlockFile } from './block-file.js';
import { kindOf, type Kind } from './kind.js';

/** Rows, values or bytes shown at most. */
export const SHOWN = 10;
const RAW_BYTES = 64;

export interface Description {
  name: string;
  size: number;
  kind: Kind;
  [detail: string]: unknown;
}

/** A value as JSON can carry it: bigints as strings, bytes as `{ bytes: hex }`. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('hex') };
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const json = 'toJSON' in value && typeof value.toJSON === 'function' ? (value.toJSON() as unknown) : value;
    if (json !== value) return plain(json);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** An Arrow stream's end-of-stream marker: with it, the schema message alone reads as an empty table. */
const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
/** numpy's own limit on a header (format/_format_impl.py, _MAX_HEADER_SIZE). */
const NPY_HEADER_MAX = 10_000 + 12;

function tooLarge(f: BlockFile): string {
  return `not shown: the block is ${f.size} bytes, more than the ${WHOLE_LIMIT} shmbridge show reads`;
}

function describeList(f: BlockFile, kind: Kind): Description {
  const all = f.readAll()!; // kindOf read it whole to call it a list
  const { format, items } = readShareableList(all, f.name);
  return { name: f.name, size: f.size, kind, length: items.length, format, items: items.map(plain) };
}

function describeTable(f: BlockFile, kind: Kind): Description {
  const all = f.readAll();
  if (!all) {
    // Too large to copy whole: the schema message, closed by an end marker, still reads.
    const metaLength = new DataView(f.read(4, 4).buffer).getInt32(0, true);
    const head = f.read(0, 8 + metaLength);
    const schemaOnly = readTable(Buffer.concat([head, END_OF_STREAM]), f.name);
    return { name: f.name, size: f.size, kind, schema: schemaOf(schemaOnly), firstRows: tooLarge(f) };
  }
  const table = readTable(all, f.name);
  const rows = [];
  for (let i = 0; i < Math.min(SHOWN, table.numRows); i++) rows.push(plain(table.get(i)));
  return { name: f.name, size: f.size, kind, rows: table.numRows, batches: table.batches.length, schema: schemaOf(table), firstRows: rows };
}

function schemaOf(table: ReturnType<typeof readTable>): unknown[] {
  return table.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
}

/** Byte strides of a contiguous array (numpy's, for C or Fortran order). */
function contiguousStrides(shape: readonly number[], itemsize: number, fortran: boolean): number[] {
  const strides = new Array<number>(shape.length);
  let step = itemsize;
  for (let k = 0; k < shape.length; k++) {
    const i = fortran ? k : shape.length - 1 - k;
    strides[i] = step;
    step *= shape[i]!;
  }
  return strides;
}

function describeTensor(f: BlockFile, kind: Kind): Description {
  const header = parseNpyHeader(f.read(0, NPY_HEADER_MAX), f.name);
  let dtype: ReturnType<typeof dtypeOf>;
  try {
    dtype = dtypeOf(header.descr);
  } catch (err) {
    throw corruptError(f.name, `its .npy header's dtype ${JSON.stringify(header.descr)} cannot be read (${(err as Error).message})`);
  }
  const count = Math.min(SHOWN, header.shape.reduce((a, b) => a * b, 1));
  const data = f.read(header.dataOffset, count * dtype.itemsize);
  const values = new dtype.array(data.buffer as ArrayBuffer, data.byteOffset, Math.floor(data.length / dtype.itemsize));
  return {
    name: f.name, size: f.size, kind, dtype: dtype.name, shape: [...header.shape],
    strides: contiguousStrides(header.shape, dtype.itemsize, header.fortranOrder), offset: header.dataOffset,
    firstValues: Array.from(values as ArrayLike<unknown>, plain),
  };
}

/**
 * What block `name` holds, read with pread (never mapped: see block-file.ts).
 * @throws {SyscallError} `ENOENT`, `EACCES`…; `ERR_SHM_CORRUPT` for a block whose contents do not parse
 */
export function describeBlock(name: string): Description {
  return withBlockFile(name, (f) => {
    const kind = f.size === 0 ? 'raw' : kindOf(f);
    switch (kind) {
      case 'ShareableList':
        return describeList(f, kind);
      case 'arrow':
        return describeTable(f, kind);
      case 'tensor':
        return describeTensor(f, kind);
      case 'raw':
        return { name, size: f.size, kind, firstBytes: Buffer.from(f.read(0, RAW_BYTES)).toString('hex') };
    }
  });
}
