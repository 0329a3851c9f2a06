/**
 * ShareableList items ↔ bytes, as CPython's `_types_mapping` and
 * `_back_transforms_mapping` define them: each item has an 8-byte `struct`
 * format (`q`, `d`, `xxxxxxx?` for bool, `xxxxxx?x` for None, `{k}s` for
 * str/bytes) and a back-transform code (0 int/float/bool, 1 str, 2 bytes,
 * 3 None). Formats and codes can be rewritten by any process's `set`, so they
 * are read and checked on every access.
 */
import { corruptError, invalidArgType, invalidArgValue, outOfRange } from '@shmbridge/core';
import { forcedType, type PyBytes, type PyFloat, type PyInput, type PyInt, type PyValue } from '../py.js';
import { ALIGNMENT, type Layout } from './layout.js';

/** Back-transform codes (`_extract_recreation_code`). */
export const enum Code {
  Plain = 0,
  Str = 1,
  Bytes = 2,
  None = 3,
}

/** What a slot's format says it holds. */
export const enum Kind {
  Int,
  Float,
  Bool,
  None,
  Chars,
}

/** A value ready to be written: what CPython's `__init__`/`__setitem__` would pack. */
export interface Encoded {
  kind: Kind;
  code: Code;
  /** int: the value (number when safe, else bigint); float: number; bool: 0/1 */
  scalar: number | bigint;
  /** bytes (and str with the NUL sentinel): what to pack with `{k}s` */
  bytes: Uint8Array | undefined;
  /** str: the text, encoded straight into the block when written (no copy made here) */
  text: string | undefined;
  /** str/bytes: how many bytes `{k}s` packs before its zero padding */
  byteLength: number;
  /** Bytes CPython would allocate for it at creation: 8, or 8·(len//8 + 1). */
  allocation: number;
}

export interface CodecOptions {
  /** `int` always read as bigint. */
  bigintInts: boolean;
  /** gh-106939 workaround: append a non-zero byte to str/bytes on write, drop it on read. */
  nulSentinel: boolean;
}

/** The sentinel of the workaround documented for gh-106939 (CPython's docs use b'\x07'). */
export const SENTINEL = 0x07;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** `{k}s` must fit the 8-byte format field: k has at most 7 digits. */
const MAX_CHARS = 9_999_999;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function checkInt64(value: bigint, where: string, index: number): bigint {
  if (value < INT64_MIN || value > INT64_MAX) throw outOfRange(label(where, index), 'within signed 64-bit (-2^63 to 2^63-1), as struct "q" packs it', value);
  return value;
}

function chars(bytes: Uint8Array | undefined, text: string | undefined, byteLength: number, code: Code.Str | Code.Bytes, lengthForAllocation: number, where: string, index: number, sentinel: boolean): Encoded {
  let counted = lengthForAllocation;
  let size = byteLength;
  if (sentinel) {
    const out = new Uint8Array(byteLength + 1);
    if (text === undefined) out.set(bytes!);
    else utf8.encodeInto(text, out);
    out[byteLength] = SENTINEL;
    bytes = out;
    text = undefined;
    counted += 1;
    size += 1;
  }
  // CPython allocates by len() (code points for str); where the UTF-8 is longer
  // than that allocation it would truncate. Fix (SPEC): allocate by the bytes then.
  let allocation = ALIGNMENT * (Math.floor(counted / ALIGNMENT) + 1);
  if (size > allocation) allocation = ALIGNMENT * (Math.floor(size / ALIGNMENT) + 1);
  if (allocation > MAX_CHARS) throw outOfRange(`${label(where, index)}.length`, `at most ${MAX_CHARS - 8} bytes (its "{k}s" format must fit 8 characters)`, size);
  return { kind: Kind.Chars, code, scalar: 0, bytes, text, byteLength: size, allocation };
}

/** Number of code points (Python's len()) of a well-formed JS string. */
function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/** UTF-8 length of a well-formed string; equal to its length when ASCII (the common case, checked without allocating). */
function utf8Length(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

/** `sequence[3]`, or `value` (index -1): made only when an error needs it. */
function label(where: string, index: number): string {
  return index < 0 ? where : `${where}[${index}]`;
}

function scalar(kind: Kind, code: Code, value: number | bigint): Encoded {
  return { kind, code, scalar: value, bytes: undefined, text: undefined, byteLength: 8, allocation: ALIGNMENT };
}

/**
 * Encodes one JS value the way SPEC maps it to Python.
 * @throws {TypeError} for a type a ShareableList cannot hold, or a string
 *   with lone surrogates (Python cannot encode them; JS would silently replace them)
 * @throws {RangeError} for an int outside signed 64-bit
 */
export function encodeValue(value: PyInput, where: string, index: number, options: CodecOptions): Encoded {
  switch (typeof value) {
    case 'number':
      if (Number.isInteger(value) && !Object.is(value, -0)) {
        if (!Number.isSafeInteger(value)) checkInt64(BigInt(value), where, index);
        return scalar(Kind.Int, Code.Plain, value);
      }
      return scalar(Kind.Float, Code.Plain, value);
    case 'bigint':
      return scalar(Kind.Int, Code.Plain, checkInt64(value, where, index));
    case 'boolean':
      return scalar(Kind.Bool, Code.Plain, value ? 1 : 0);
    case 'undefined':
      return scalar(Kind.None, Code.None, 0);
    case 'string':
      if (!value.isWellFormed()) throw invalidArgValue(label(where, index), 'contains lone surrogates, which Python str cannot encode', value);
      return chars(undefined, value, utf8Length(value), Code.Str, codePoints(value), where, index, options.nulSentinel);
    case 'object': {
      if (value === null) return scalar(Kind.None, Code.None, 0);
      if (value instanceof Uint8Array) return chars(value, undefined, value.length, Code.Bytes, value.length, where, index, options.nulSentinel);
      switch (forcedType(value)) {
        case 'int':
          return scalar(Kind.Int, Code.Plain, checkInt64((value as PyInt).value, where, index));
        case 'float':
          return scalar(Kind.Float, Code.Plain, (value as PyFloat).value);
        case 'bytes': {
          const b = (value as PyBytes).value;
          return chars(b, undefined, b.length, Code.Bytes, b.length, where, index, options.nulSentinel);
        }
        default:
          break;
      }
    }
  }
  throw invalidArgType(label(where, index), 'a number, bigint, boolean, string, Uint8Array, null, undefined or py.int/py.float/py.bytes', value);
}

/** The `struct` format CPython stores for an encoded value in a slot of `slotBytes`. */
export function formatOf(e: Encoded, charsFormatBytes: number): string {
  switch (e.kind) {
    case Kind.Int:
      return 'q';
    case Kind.Float:
      return 'd';
    case Kind.Bool:
      return 'xxxxxxx?';
    case Kind.None:
      return 'xxxxxx?x';
    case Kind.Chars:
      return `${charsFormatBytes}s`;
  }
}

/** Writes an 8-byte format field ("8s": the ASCII format, zero-padded). */
export function writeFormat(bytes: Uint8Array, at: number, format: string): void {
  for (let i = 0; i < 8; i++) bytes[at + i] = i < format.length ? format.charCodeAt(i) : 0;
}

/** The fixed formats as [low, high] little-endian words, indexed by Kind (Chars has none). */
const FORMAT_WORDS: ReadonlyArray<readonly [number, number]> = [
  [0x71, 0], // q
  [0x64, 0], // d
  [0x78787878, 0x3f787878], // xxxxxxx?
  [0x78787878, 0x783f7878], // xxxxxx?x
];

/** Writes the format of an encoded value; `k` is the `{k}s` count for str/bytes. */
export function writeFormatOf(view: DataView, bytes: Uint8Array, at: number, e: Encoded, k: number): void {
  if (e.kind === Kind.Chars) {
    writeFormat(bytes, at, `${k}s`);
    return;
  }
  const [lo, hi] = FORMAT_WORDS[e.kind]!;
  view.setUint32(at, lo, true);
  view.setUint32(at + 4, hi, true);
}

/**
 * Packs a value at a slot as `struct.pack_into(format, ...)` does: 8 bytes for
 * scalars (pad bytes zero), `k` bytes for `{k}s` (value then zeros).
 */
export function writeValue(view: DataView, bytes: Uint8Array, at: number, e: Encoded, k: number): void {
  switch (e.kind) {
    case Kind.Int:
      if (typeof e.scalar === 'bigint') view.setBigInt64(at, e.scalar, true);
      else {
        view.setUint32(at, e.scalar >>> 0, true);
        view.setInt32(at + 4, Math.floor(e.scalar / 4294967296), true);
      }
      return;
    case Kind.Float:
      view.setFloat64(at, e.scalar as number, true);
      return;
    case Kind.Bool:
    case Kind.None:
      view.setUint32(at, 0, true);
      view.setUint32(at + 4, 0, true);
      if (e.kind === Kind.Bool) bytes[at + 7] = e.scalar as number;
      return;
    case Kind.Chars: {
      const text = e.text;
      if (text === undefined) bytes.set(e.bytes!, at);
      else if (text.length === e.byteLength) for (let i = 0; i < text.length; i++) bytes[at + i] = text.charCodeAt(i);
      else utf8.encodeInto(text, bytes.subarray(at, at + e.byteLength));
      bytes.fill(0, at + e.byteLength, at + k);
    }
  }
}

// The fixed formats as two little-endian 32-bit words.
const X4 = 0x78787878; // "xxxx"
const BOOL_HI = 0x3f787878; // "xxx?"
const NONE_HI = 0x783f7878; // "xx?x"

/**
 * Parses the 8-byte format of item `i`. Returns the kind, and for `{k}s` the
 * byte count k (checked to fit the slot, so no read leaves the slot).
 */
export function readFormat(view: DataView, bytes: Uint8Array, layout: Layout, i: number, name: string): { kind: Kind; k: number } {
  const at = layout.formatsStart + i * 8;
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  if (hi === 0 && lo === 0x71) return { kind: Kind.Int, k: 8 };
  if (hi === 0 && lo === 0x64) return { kind: Kind.Float, k: 8 };
  if (lo === X4 && hi === BOOL_HI) return { kind: Kind.Bool, k: 8 };
  if (lo === X4 && hi === NONE_HI) return { kind: Kind.None, k: 8 };
  let k = 0;
  let j = 0;
  for (; j < 7; j++) {
    const c = bytes[at + j]!;
    if (c < 0x30 || c > 0x39) break;
    k = k * 10 + (c - 0x30);
  }
  const slot = layout.offsets[i + 1]! - layout.offsets[i]!;
  let ok = j > 0 && bytes[at + j] === 0x73 /* s */ && k <= slot;
  for (let r = j + 1; ok && r < 8; r++) ok = bytes[at + r] === 0;
  if (!ok) {
    const shown = Buffer.from(bytes.subarray(at, at + 8)).toString('latin1').replace(/\0+$/, '');
    throw corruptError(name, `item ${i} has format ${JSON.stringify(shown)}, which is not one ShareableList writes or does not fit its ${slot}-byte slot`);
  }
  return { kind: Kind.Chars, k };
}

/** The `struct` format of every item, as Python's `ShareableList.format`. */
export function formatString(view: DataView, bytes: Uint8Array, layout: Layout, name: string): string {
  let out = '';
  for (let i = 0; i < layout.length; i++) {
    const { kind, k } = readFormat(view, bytes, layout, i, name);
    out += kind === Kind.Chars ? `${k}s` : formatOf({ kind } as Encoded, 0);
  }
  return out;
}

/** Reads item `i`: its format and code from the block, then the value they describe. */
export function readValue(view: DataView, bytes: Uint8Array, layout: Layout, i: number, name: string, options: CodecOptions): PyValue {
  const { kind, k } = readFormat(view, bytes, layout, i, name);
  const code = bytes[layout.codesStart + i]!;
  const at = layout.dataStart + layout.offsets[i]!;
  if (code === Code.Plain) {
    switch (kind) {
      case Kind.Int: {
        const lo = view.getUint32(at, true);
        const hi = view.getInt32(at + 4, true);
        if (!options.bigintInts && hi > -0x200000 && hi < 0x200000) return hi * 4294967296 + lo;
        const big = view.getBigInt64(at, true);
        return !options.bigintInts && big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
      }
      case Kind.Float:
        return view.getFloat64(at, true);
      case Kind.Bool:
        return bytes[at + 7] !== 0;
      case Kind.None:
        return bytes[at + 6] !== 0; // what struct's "xxxxxx?x" unpacks; identity transform
      case Kind.Chars:
        return bytes.slice(at, at + k); // identity transform: bytes, unstripped
    }
  }
  if (code === Code.None) return null;
  if ((code === Code.Str || code === Code.Bytes) && kind === Kind.Chars) {
    let end = at + k;
    while (end > at && bytes[end - 1] === 0) end--; // rstrip(b'\x00')
    if (options.nulSentinel && end > at) end--;
    return code === Code.Str ? decodeUtf8(bytes, at, end, name, i) : bytes.slice(at, end);
  }
  throw corruptError(name, `item ${i} has back-transform code ${code} with a ${kind === Kind.Chars ? 'str/bytes' : 'scalar'} format`);
}

function decodeUtf8(bytes: Uint8Array, start: number, end: number, name: string, i: number): string {
  // Short ASCII is most of what lists hold; building it by hand beats TextDecoder's call overhead.
  if (end - start <= 24) {
    let s = '';
    let ascii = true;
    for (let p = start; p < end; p++) {
      const c = bytes[p]!;
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      s += String.fromCharCode(c);
    }
    if (ascii) return s;
  }
  try {
    return utf8Strict.decode(bytes.subarray(start, end));
  } catch {
    throw corruptError(name, `item ${i} is a str whose bytes are not valid UTF-8`);
  }
}
