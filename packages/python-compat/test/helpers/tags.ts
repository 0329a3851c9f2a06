/**
 * Tagged Python values for talking to CPython over JSON without losing
 * int/float/bytes distinctions or NaN/-0.0 (the same tags as
 * fixtures/sl_oracle.py).
 */
import { py, type PyInput, type PyValue } from '@shmbridge/python-compat';

export type Tag =
  | { t: 'int'; v: string }
  | { t: 'float'; v: string }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'none' };

function f64hex(x: number): string {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return b.toString('hex');
}

export const T = {
  int: (v: number | bigint): Tag => ({ t: 'int', v: String(v) }),
  float: (x: number): Tag => ({ t: 'float', v: f64hex(x) }),
  str: (v: string): Tag => ({ t: 'str', v }),
  bytes: (v: Uint8Array | string): Tag => ({ t: 'bytes', v: typeof v === 'string' ? Buffer.from(v, 'latin1').toString('hex') : Buffer.from(v).toString('hex') }),
  bool: (v: boolean): Tag => ({ t: 'bool', v }),
  none: (): Tag => ({ t: 'none' }),
};

/** The JS value to write for a tag, with the Python type forced. */
export function toInput(tag: Tag): PyInput {
  switch (tag.t) {
    case 'int':
      return py.int(BigInt(tag.v));
    case 'float':
      return py.float(Buffer.from(tag.v, 'hex').readDoubleLE(0));
    case 'str':
      return tag.v;
    case 'bytes':
      return new Uint8Array(Buffer.from(tag.v, 'hex'));
    case 'bool':
      return tag.v;
    case 'none':
      return null;
  }
}

/** The tag of a value TS read, given the type Python says it has (JS numbers don't say). */
export function tagAs(expected: Tag['t'], value: PyValue): Tag {
  if (value === null) return T.none();
  if (typeof value === 'boolean') return T.bool(value);
  if (typeof value === 'string') return T.str(value);
  if (value instanceof Uint8Array) return T.bytes(value);
  if (expected === 'float' && typeof value === 'number') return T.float(value);
  return T.int(value);
}

/** Tags of what TS read, typed by what CPython read from the same block. */
export function tagsAs(expected: Tag[], values: PyValue[]): Tag[] {
  return values.map((v, i) => tagAs(expected[i]?.t ?? 'int', v));
}
