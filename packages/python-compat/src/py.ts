/**
 * Python value helpers: JavaScript has one `number` where Python has `int`
 * and `float`, and no `bytes`. These wrappers say which Python type a value
 * is meant to have where the plain JS value would be read otherwise
 * (`py.float(1)` is `1.0`, not `1`).
 */
import { invalidArgType, outOfRange } from '@shmbridge/core';

const BRAND = Symbol.for('@shmbridge/python-compat/py');

/** A value forced to Python's `int` (made by {@link py.int}). */
export class PyInt {
  readonly [BRAND] = 'int' as const;
  constructor(readonly value: bigint) {}
}

/** A value forced to Python's `float` (made by {@link py.float}). */
export class PyFloat {
  readonly [BRAND] = 'float' as const;
  constructor(readonly value: number) {}
}

/** A value forced to Python's `bytes` (made by {@link py.bytes}). */
export class PyBytes {
  readonly [BRAND] = 'bytes' as const;
  constructor(readonly value: Uint8Array) {}
}

/** A Python tuple (JS arrays are Python lists). */
export class PyTuple<T = unknown> {
  readonly [BRAND] = 'tuple' as const;
  constructor(readonly items: readonly T[]) {}
}

/** A Python value as JS reads it: `int` → number|bigint, `float` → number, `str`, `bytes` → Uint8Array, `None` → null. */
export type PyValue = number | bigint | boolean | string | Uint8Array | null;

/** What JS may write where a Python value goes: a {@link PyValue}, `undefined` (→ None), or a forced type. */
export type PyInput = PyValue | undefined | PyInt | PyFloat | PyBytes;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Force Python types on JS values.
 * @example
 * ```ts
 * import { py, ShareableList } from '@shmbridge/python-compat';
 * const sl = new ShareableList([py.float(1), py.int(2n ** 62n), py.bytes('raw')]);
 * sl.format; // 'dq8s'
 * sl.shm.close().unlink();
 * ```
 */
export const py = {
  /**
   * Python `int` (64-bit signed where a layout needs it).
   * @throws {RangeError} for a non-integral number or one outside int64
   */
  int(x: number | bigint): PyInt {
    if (typeof x === 'number' && !Number.isInteger(x)) throw outOfRange('x', 'an integer', x);
    if (typeof x !== 'number' && typeof x !== 'bigint') throw invalidArgType('x', 'a number or bigint', x);
    const big = BigInt(x);
    if (big < INT64_MIN || big > INT64_MAX) throw outOfRange('x', 'within signed 64-bit (-2^63 to 2^63-1)', x);
    return new PyInt(big);
  },
  /** Python `float`, even for integral numbers. */
  float(x: number): PyFloat {
    if (typeof x !== 'number') throw invalidArgType('x', 'a number', x);
    return new PyFloat(x);
  },
  /** Python `tuple` of the given items (a JS array is a `list`). */
  tuple<T extends unknown[]>(...items: T): PyTuple<T[number]> {
    return new PyTuple(items);
  },
  /** Python `bytes`: a string is encoded as UTF-8; a Uint8Array is taken as is. */
  bytes(x: string | Uint8Array): PyBytes {
    if (typeof x === 'string') return new PyBytes(Buffer.from(x, 'utf8'));
    if (x instanceof Uint8Array) return new PyBytes(x);
    throw invalidArgType('x', 'a string or Uint8Array', x);
  },
};

/** Which forced type a value carries, if any (works across two copies of this package). */
export function forcedType(value: unknown): 'int' | 'float' | 'bytes' | 'tuple' | undefined {
  return value !== null && typeof value === 'object' ? (value as { [BRAND]?: 'int' | 'float' | 'bytes' | 'tuple' })[BRAND] : undefined;
}

/** Python's `==` between two values read from a list: `1 == 1.0 == True`, bytes by content. */
export function pyEquals(a: unknown, b: unknown): boolean {
  const x = unwrap(a);
  const y = unwrap(b);
  if (x === y) return true;
  const nx = numeric(x);
  const ny = numeric(y);
  if (nx !== undefined && ny !== undefined) {
    if (typeof nx === 'bigint' || typeof ny === 'bigint') {
      if (typeof nx === 'number' && !Number.isInteger(nx)) return false;
      if (typeof ny === 'number' && !Number.isInteger(ny)) return false;
      return BigInt(nx) === BigInt(ny);
    }
    return nx === ny;
  }
  if (x instanceof Uint8Array && y instanceof Uint8Array) return Buffer.compare(x, y) === 0;
  return (x === null || x === undefined) && (y === null || y === undefined);
}

function unwrap(v: unknown): unknown {
  const t = forcedType(v);
  return t ? (v as PyInt | PyFloat | PyBytes).value : v;
}

function numeric(v: unknown): number | bigint | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/**
 * Python's `repr()` of a value as a ShareableList holds it, for messages that
 * read like CPython's (`'x' not in this container`): `'str'`, `b'bytes'`,
 * `42`, `1.5`, `1.0` (a forced float), `True`, `None`.
 */
export function pyRepr(value: unknown): string {
  const type = forcedType(value);
  const v = type ? (value as PyInt | PyFloat | PyBytes).value : value;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return type === 'float' && Number.isInteger(v) ? `${v}.0` : String(v);
  }
  if (typeof v === 'string') return quote(v, '', (c) => c);
  if (v instanceof Uint8Array) return quote(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'), 'b', (c) => (c.charCodeAt(0) > 0x7e ? hex(c) : c));
  return String(v);
}

function hex(c: string): string {
  return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** Python's quoting: single quotes unless the text has a ' and no ", escapes for control characters. */
function quote(text: string, prefix: string, high: (c: string) => string): string {
  const q = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  let out = '';
  for (const c of text) {
    if (c in escapes) out += escapes[c];
    else if (c === q) out += `\\${c}`;
    else if (c < ' ' || c === '\x7f') out += hex(c);
    else out += high(c);
  }
  return `${prefix}${q}${out}${q}`;
}
