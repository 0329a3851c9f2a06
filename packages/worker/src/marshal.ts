/**
 * Python's `marshal` format, version 2 — the subset that holds JSON-like
 * values plus bytes, tuples and Ellipsis. The worker's messages use it because
 * CPython reads and writes it in C with no import (`marshal.loads` of a small
 * call is ~1 µs; `json.loads` ~9 µs here), it keeps ints exact at any size and
 * floats bit for bit (NaN, ±Infinity, -0), and it carries bytes as they are.
 * Version 2 is what `marshal.dumps(value, 2)` writes on every CPython from 3.4
 * on: no back-references, every str as UTF-8.
 *
 * Layout (Python/marshal.c): one type byte, then
 *   'N' None · 'T' True · 'F' False · '.' Ellipsis
 *   'i' int32 LE · 'l' int32 n, then |n| 15-bit digits as u16 LE, least significant first, sign of n
 *   'g' float64 LE · 'u' u32 length + UTF-8 · 's' u32 length + bytes
 *   '(' tuple, '[' list: u32 count + items · '{' dict: key, value pairs, then '0'
 * Decoding also accepts what newer versions write for str ('a', 'A', 'z', 'Z', 't').
 */
import { protocolError } from './errors.js';

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const DIGIT = 2 ** 15;
const MAX_DEPTH = 2100; // above CPython's own marshal limit (2000), so its output always fits

/**
 * Writes marshal values into a growing buffer. The caller walks its values
 * and calls one method per item (see values.ts).
 */
export class MarshalWriter {
  buf: Buffer;
  pos: number;

  constructor(initial = 256, pos = 0) {
    this.buf = Buffer.allocUnsafe(initial);
    this.pos = pos;
  }

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }

  u32(n: number): void {
    this.reserve(4);
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }

  /** `'i'` for 32-bit values, `'l'` beyond; `value` is a safe integer. */
  int(value: number): void {
    if (value >= INT32_MIN && value <= INT32_MAX) {
      this.reserve(5);
      this.buf[this.pos] = 0x69; // 'i'
      this.buf.writeInt32LE(value, this.pos + 1);
      this.pos += 5;
      return;
    }
    const digits: number[] = [];
    for (let v = Math.abs(value); v > 0; v = Math.floor(v / DIGIT)) digits.push(v % DIGIT);
    this.#long(value < 0, digits);
  }

  bigint(value: bigint): void {
    if (value >= INT32_MIN && value <= INT32_MAX) return this.int(Number(value));
    const digits: number[] = [];
    for (let v = value < 0n ? -value : value; v > 0n; v >>= 15n) digits.push(Number(v & 0x7fffn));
    this.#long(value < 0n, digits);
  }

  #long(negative: boolean, digits: number[]): void {
    this.reserve(5 + 2 * digits.length);
    this.buf[this.pos] = 0x6c; // 'l'
    this.buf.writeInt32LE(negative ? -digits.length : digits.length, this.pos + 1);
    this.pos += 5;
    for (const d of digits) {
      this.buf.writeUInt16LE(d, this.pos);
      this.pos += 2;
    }
  }

  float(value: number): void {
    this.reserve(9);
    this.buf[this.pos] = 0x67; // 'g'
    this.buf.writeDoubleLE(value, this.pos + 1);
    this.pos += 9;
  }

  str(value: string): void {
    // At most 3 UTF-8 bytes per UTF-16 unit; measured exactly only when large.
    const max = value.length * 3;
    this.reserve(5 + (max > 4096 ? Buffer.byteLength(value, 'utf8') : max));
    this.buf[this.pos] = 0x75; // 'u'
    const n = this.buf.write(value, this.pos + 5, 'utf8');
    this.buf.writeUInt32LE(n, this.pos + 1);
    this.pos += 5 + n;
  }

  bytes(value: Uint8Array): void {
    this.reserve(5 + value.length);
    this.buf[this.pos] = 0x73; // 's'
    this.buf.writeUInt32LE(value.length, this.pos + 1);
    this.buf.set(value, this.pos + 5);
    this.pos += 5 + value.length;
  }

  /** `'('` + count; the items follow. */
  tuple(count: number): void {
    this.byte(0x28);
    this.u32(count);
  }

  /** `'['` + count; the items follow. */
  list(count: number): void {
    this.byte(0x5b);
    this.u32(count);
  }
}

export const TYPE = {
  NONE: 0x4e, TRUE: 0x54, FALSE: 0x46, ELLIPSIS: 0x2e, DICT: 0x7b, NULL: 0x30,
} as const;

/** Decoding a `(Ellipsis, i)` tuple: the object `refs[i]` stands for. */
export type RefResolver = (index: number) => unknown;

/**
 * Reads one marshal value from `buf[start, end)`. Python is trusted to write
 * marshal, but the bytes arrive over a pipe another process writes: every
 * length is checked, and anything outside the subset above is a protocol
 * error, never a crash or a read past the frame.
 * @throws `ERR_WORKER_PROTOCOL` for malformed input or trailing bytes
 */
export function readMarshal(buf: Buffer, start: number, end: number, resolveRef?: RefResolver): unknown {
  const r = new Reader(buf, start, end, resolveRef);
  const value = r.value(0);
  if (value === ELLIPSIS) throw protocolError('Ellipsis outside a reference');
  if (r.pos !== end) throw protocolError(`${end - r.pos} unexpected bytes after a marshal value`);
  return value;
}

const ELLIPSIS = Symbol('Ellipsis');

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number, public resolveRef?: RefResolver) {
    this.pos = start;
  }

  #need(n: number): number {
    const at = this.pos;
    if (n < 0 || at + n > this.end) throw protocolError(`a marshal value runs past the end of its frame (needs ${n} bytes at ${at})`);
    this.pos = at + n;
    return at;
  }

  #count(): number {
    return this.buf.readUInt32LE(this.#need(4));
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw protocolError('marshal value nested too deeply');
    const type = this.buf[this.#need(1)]!;
    switch (type) {
      case 0x4e: return null; // N
      case 0x54: return true; // T
      case 0x46: return false; // F
      case 0x2e: return ELLIPSIS; // .
      case 0x69: return this.buf.readInt32LE(this.#need(4)); // i
      case 0x6c: return this.#long(); // l
      case 0x67: return this.buf.readDoubleLE(this.#need(8)); // g
      case 0x75: case 0x74: { // u, t: UTF-8
        const n = this.#count();
        const at = this.#need(n);
        return this.buf.toString('utf8', at, at + n);
      }
      case 0x61: case 0x41: { // a, A: ASCII
        const n = this.#count();
        const at = this.#need(n);
        return this.buf.toString('latin1', at, at + n);
      }
      case 0x7a: case 0x5a: { // z, Z: short ASCII
        const n = this.buf[this.#need(1)]!;
        const at = this.#need(n);
        return this.buf.toString('latin1', at, at + n);
      }
      case 0x73: { // s: bytes, copied out of the frame
        const n = this.#count();
        const at = this.#need(n);
        return new Uint8Array(this.buf.subarray(at, at + n));
      }
      case 0x5b: { // [
        const n = this.#count();
        if (n > this.end - this.pos) throw protocolError(`a list of ${n} items cannot fit in its frame`);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.#item(depth);
        return out;
      }
      case 0x28: return this.#tuple(this.#count(), depth); // (
      case 0x29: return this.#tuple(this.buf[this.#need(1)]!, depth); // ): small tuple
      case 0x7b: { // {
        const out: Record<string, unknown> = {};
        for (;;) {
          if (this.pos < this.end && this.buf[this.pos] === TYPE.NULL) {
            this.pos++;
            return out;
          }
          const key = this.value(depth + 1);
          if (typeof key !== 'string') throw protocolError('a dict key that is not a str');
          const v = this.#item(depth);
          // As JSON.parse does: '__proto__' is an own property, never the prototype.
          if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
          else out[key] = v;
        }
      }
      default:
        throw protocolError(`unexpected marshal type 0x${type.toString(16)} ('${String.fromCharCode(type & 0x7f)}')`);
    }
  }

  #item(depth: number): unknown {
    const v = this.value(depth + 1);
    if (v === ELLIPSIS) throw protocolError('Ellipsis outside a reference');
    return v;
  }

  #tuple(n: number, depth: number): unknown {
    if (n > this.end - this.pos) throw protocolError(`a tuple of ${n} items cannot fit in its frame`);
    if (n === 2 && this.buf[this.pos] === TYPE.ELLIPSIS) {
      this.pos++;
      const index = this.value(depth + 1);
      if (!this.resolveRef || typeof index !== 'number') throw protocolError('a reference where none was announced');
      return this.resolveRef(index);
    }
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.#item(depth);
    return out;
  }

  #long(): number | bigint {
    const n = this.buf.readInt32LE(this.#need(4));
    const count = Math.abs(n);
    const at = this.#need(2 * count);
    if (count <= 3) {
      let v = 0;
      for (let i = count - 1; i >= 0; i--) v = v * DIGIT + this.buf.readUInt16LE(at + 2 * i);
      return n < 0 ? -v : v;
    }
    let v = 0n;
    for (let i = count - 1; i >= 0; i--) v = (v << 15n) | BigInt(this.buf.readUInt16LE(at + 2 * i));
    if (n < 0) v = -v;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
}

/**
 * Reads the tuple `(refs, value)`: `refs` first, handed to `resolve` (which
 * attaches what they name and returns the objects), then `value`, in which
 * each `(Ellipsis, i)` becomes `objects[i]`.
 * @throws `ERR_WORKER_PROTOCOL` for malformed input; whatever `resolve` throws
 */
export function readRefsAndValue(buf: Buffer, start: number, end: number, resolve: (refs: unknown[]) => unknown[]): unknown {
  if (end - start < 5 || buf[start] !== 0x28 || buf.readUInt32LE(start + 1) !== 2) throw protocolError('a result payload that is not (refs, value)');
  const r = new Reader(buf, start + 5, end);
  const refs = r.value(1);
  if (!Array.isArray(refs)) throw protocolError('result references that are not a list');
  const objects = resolve(refs);
  r.resolveRef = (i) => {
    if (!Number.isInteger(i) || i < 0 || i >= objects.length) throw protocolError(`a reference to object ${i} of ${objects.length}`);
    return objects[i];
  };
  const value = r.value(1);
  if (value === ELLIPSIS) throw protocolError('Ellipsis outside a reference');
  if (r.pos !== end) throw protocolError(`${end - r.pos} unexpected bytes after a marshal value`);
  return value;
}
