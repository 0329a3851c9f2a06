/**
 * The interop tests' view of a table: every column as plain JSON values,
 * normalized the way fixtures/normalize.py normalizes pyarrow's (int64 as
 * strings, dates and timestamps as epoch milliseconds, binary as hex), and
 * the shared sample table built by whichever apache-arrow instance is given.
 */
import type * as A from 'apache-arrow';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** fixtures/, for the Python side and the sample table. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Every type of the Arrow tests, with nulls, two record batches, built with `arrow`. */
export const sampleWith = (createRequire(import.meta.url)('../fixtures/sample-table.cjs') as { sample(arrow: typeof A): A.Table }).sample;

export function normalize(x: unknown): unknown {
  if (x === null || x === undefined) return null;
  if (typeof x === 'bigint') return String(x);
  if (x instanceof Date) return x.getTime();
  if (x instanceof Uint8Array) return `hex:${Buffer.from(x).toString('hex')}`;
  if (typeof x === 'object' && 'toJSON' in x) return normalize((x as { toJSON(): unknown }).toJSON());
  if (Array.isArray(x)) return x.map(normalize);
  if (typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, val]) => [k, normalize(val)]));
  return x;
}

export function columns(t: A.Table): Record<string, unknown[]> {
  return Object.fromEntries(t.schema.fields.map((f) => [f.name, [...t.getChild(f.name)!].map(normalize)]));
}
