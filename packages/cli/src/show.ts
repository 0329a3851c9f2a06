/**
 * What `shmbridge show NAME` prints: a list's items, a table's schema and
 * first rows, a tensor's dtype, shape and first values, or a raw block's
 * first bytes — as plain data, so `--json` and the text form say the same.
 */
import { SharedMemory, Tensor } from '@shmbridge/core';
import { attachTable, closeTable } from '@shmbridge/arrow';
import { ShareableList } from '@shmbridge/python-compat';
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

export function describeBlock(name: string): Description {
  const kind = kindOf(name);
  switch (kind) {
    case 'ShareableList': {
      const sl = ShareableList.attach(name);
      try {
        return { name, size: sl.shm.size, kind, length: sl.length, format: sl.format, items: sl.toArray().map(plain) };
      } finally {
        sl.close();
      }
    }
    case 'arrow': {
      const table = attachTable(name);
      try {
        const size = SharedMemory.attach(name).close().size;
        const schema = table.schema.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
        const rows = [];
        for (let i = 0; i < Math.min(SHOWN, table.numRows); i++) rows.push(plain(table.get(i)));
        return { name, size, kind, rows: table.numRows, batches: table.batches.length, schema, firstRows: rows };
      } finally {
        closeTable(table);
      }
    }
    case 'tensor': {
      const t = Tensor.attach(name);
      try {
        const first = Array.from(t.data.subarray(0, SHOWN) as ArrayLike<unknown>, plain);
        return { name, size: t.shm.size, kind, dtype: t.dtype, shape: [...t.shape], strides: [...t.strides], offset: t.offset, firstValues: first };
      } finally {
        t.close();
      }
    }
    case 'raw': {
      const shm = SharedMemory.attach(name);
      try {
        const head = shm.view(Uint8Array, { length: Math.min(RAW_BYTES, shm.size) });
        return { name, size: shm.size, kind, firstBytes: Buffer.from(head).toString('hex') };
      } finally {
        shm.close();
      }
    }
  }
}
