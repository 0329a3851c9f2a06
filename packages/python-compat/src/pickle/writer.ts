/**
 * A pickle writer (protocol 4, CPython 3.8+'s default) for plain data and
 * calls of named globals. Memoization follows CPython's C pickler, so the
 * same object pickles to the same bytes as `pickle.dumps(obj)`.
 */
import { invalidArgType } from '@shmbridge/core';
import { forcedType, type PyBytes, type PyFloat, type PyInt, PyTuple } from '../py.js';
import { Op } from './opcodes.js';
import { PyCall, PyGlobal } from './values.js';

/** CPython frames pickles of at least this size (FRAME_SIZE_MIN); smaller ones have no FRAME. */
const FRAME_SIZE_MIN = 4;
/** Items per APPENDS/SETITEMS batch (pickle.py `_BATCHSIZE`). */
const BATCH = 1000;

class Out {
  chunks: Buffer[] = [];
  #buf = Buffer.allocUnsafe(256);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
  byte(b: number): void {
    this.#room(1);
    this.#buf[this.#len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  u32(n: number): void {
    this.#room(4);
    this.#buf.writeUInt32LE(n, this.#len);
    this.#len += 4;
  }
  u64(n: number): void {
    this.#room(8);
    this.#buf.writeBigUInt64LE(BigInt(n), this.#len);
    this.#len += 8;
  }
  /** Writes a string whose chars are all below 0x80, one byte each. */
  ascii(s: string): void {
    this.#room(s.length);
    this.#len += this.#buf.write(s, this.#len, 'latin1');
  }
  patchU64(at: number, n: number): void {
    this.#buf.writeBigUInt64LE(BigInt(n), at);
  }
  result(): Buffer {
    return this.#buf.subarray(0, this.#len);
  }
}

/** Two's complement little-endian bytes of `n`, as few as CPython's encode_long writes. */
function longBytes(n: bigint): Uint8Array {
  if (n === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let v = n;
  for (;;) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
    const last = out[out.length - 1]!;
    if ((v === 0n && last < 0x80) || (v === -1n && last >= 0x80)) break;
  }
  return Uint8Array.from(out);
}

class Pickler {
  readonly out = new Out();
  readonly #memo = new Map<unknown, number>();
  #depth = 0;

  #memoize(key: unknown): void {
    this.#memo.set(key, this.#memo.size);
    this.out.byte(Op.MEMOIZE);
  }

  /** Emits BINGET for something already pickled; true if it did. */
  #get(key: unknown): boolean {
    const i = this.#memo.get(key);
    if (i === undefined) return false;
    if (i < 256) {
      this.out.byte(Op.BINGET);
      this.out.byte(i);
    } else {
      this.out.byte(Op.LONG_BINGET);
      this.out.u32(i);
    }
    return true;
  }

  int(n: bigint): void {
    const o = this.out;
    if (n >= 0n && n < 256n) {
      o.byte(Op.BININT1);
      o.byte(Number(n));
    } else if (n >= 0n && n < 65536n) {
      o.byte(Op.BININT2);
      o.byte(Number(n) & 0xff);
      o.byte(Number(n) >> 8);
    } else if (n >= -(2n ** 31n) && n < 2n ** 31n) {
      o.byte(Op.BININT);
      const b = Buffer.alloc(4);
      b.writeInt32LE(Number(n));
      o.bytes(b);
    } else {
      const b = longBytes(n);
      if (b.length < 256) {
        o.byte(Op.LONG1);
        o.byte(b.length);
      } else {
        o.byte(Op.LONG4);
        o.u32(b.length);
      }
      o.bytes(b);
    }
  }

  float(x: number): void {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(x);
    this.out.byte(Op.BINFLOAT);
    this.out.bytes(b);
  }

  str(s: string): void {
    if (this.#get(`str:${s}`)) return;
    if (s.length < 256 && this.#asciiShort(s)) return this.#memoize(`str:${s}`);
    const b = Buffer.from(s, 'utf8');
    if (b.length < 256) {
      this.out.byte(Op.SHORT_BINUNICODE);
      this.out.byte(b.length);
    } else if (b.length <= 0xffffffff) {
      this.out.byte(Op.BINUNICODE);
      this.out.u32(b.length);
    } else {
      this.out.byte(Op.BINUNICODE8);
      this.out.u64(b.length);
    }
    this.out.bytes(b);
    this.#memoize(`str:${s}`);
  }

  /** SHORT_BINUNICODE of an ASCII string, written straight into the output. */
  #asciiShort(s: string): boolean {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
    this.out.byte(Op.SHORT_BINUNICODE);
    this.out.byte(s.length);
    this.out.ascii(s);
    return true;
  }

  bytes(b: Uint8Array): void {
    if (this.#get(b)) return;
    if (b.length < 256) {
      this.out.byte(Op.SHORT_BINBYTES);
      this.out.byte(b.length);
    } else if (b.length <= 0xffffffff) {
      this.out.byte(Op.BINBYTES);
      this.out.u32(b.length);
    } else {
      this.out.byte(Op.BINBYTES8);
      this.out.u64(b.length);
    }
    this.out.bytes(b);
    this.#memoize(b);
  }

  global(g: PyGlobal): void {
    if (this.#get(g)) return;
    this.str(g.module);
    this.str(g.name);
    this.out.byte(Op.STACK_GLOBAL);
    this.#memoize(g);
  }

  tuple(t: PyTuple): void {
    const items = t.items;
    if (items.length === 0) {
      this.out.byte(Op.EMPTY_TUPLE);
      return;
    }
    if (this.#get(t)) return;
    if (items.length <= 3) {
      for (const x of items) this.value(x);
      this.out.byte(Op.TUPLE1 + items.length - 1);
    } else {
      this.out.byte(Op.MARK);
      for (const x of items) this.value(x);
      this.out.byte(Op.TUPLE);
    }
    this.#memoize(t);
  }

  list(items: readonly unknown[]): void {
    if (this.#get(items)) return;
    this.out.byte(Op.EMPTY_LIST);
    this.#memoize(items);
    for (let i = 0; i < items.length; i += BATCH) {
      const batch = items.slice(i, i + BATCH);
      if (batch.length === 1) {
        this.value(batch[0]);
        this.out.byte(Op.APPEND);
      } else {
        this.out.byte(Op.MARK);
        for (const x of batch) this.value(x);
        this.out.byte(Op.APPENDS);
      }
    }
  }

  dict(entries: Array<[unknown, unknown]>, key: unknown): void {
    if (this.#get(key)) return;
    this.out.byte(Op.EMPTY_DICT);
    this.#memoize(key);
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        this.value(batch[0]![0]);
        this.value(batch[0]![1]);
        this.out.byte(Op.SETITEM);
      } else {
        this.out.byte(Op.MARK);
        for (const [k, v] of batch) {
          this.value(k);
          this.value(v);
        }
        this.out.byte(Op.SETITEMS);
      }
    }
  }

  call(c: PyCall): void {
    if (this.#get(c)) return;
    if (c.how === 'newobj') {
      this.value(c.func);
      this.tuple(c.args);
      this.out.byte(Op.NEWOBJ);
    } else {
      this.value(c.func);
      this.tuple(c.args);
      this.out.byte(Op.REDUCE);
    }
    this.#memoize(c);
    if (c.state !== undefined) {
      this.value(c.state);
      this.out.byte(Op.BUILD);
    }
  }

  value(v: unknown): void {
    if (++this.#depth > 1000) throw new RangeError('pickle: nesting deeper than 1000');
    try {
      this.#value(v);
    } finally {
      this.#depth--;
    }
  }

  #value(v: unknown): void {
    switch (typeof v) {
      case 'undefined':
        this.out.byte(Op.NONE);
        return;
      case 'boolean':
        this.out.byte(v ? Op.NEWTRUE : Op.NEWFALSE);
        return;
      case 'number':
        if (Number.isInteger(v) && !Object.is(v, -0)) this.int(BigInt(v));
        else this.float(v);
        return;
      case 'bigint':
        this.int(v);
        return;
      case 'string':
        this.str(v);
        return;
      case 'object': {
        if (v === null) return this.out.byte(Op.NONE);
        if (v instanceof PyGlobal) return this.global(v);
        if (v instanceof PyCall) return this.call(v);
        if (v instanceof PyTuple) return this.tuple(v);
        if (v instanceof Uint8Array) return this.bytes(v);
        if (Array.isArray(v)) return this.list(v);
        if (v instanceof Map) return this.dict([...v.entries()], v);
        switch (forcedType(v)) {
          case 'int':
            return this.int((v as PyInt).value);
          case 'float':
            return this.float((v as PyFloat).value);
          case 'bytes':
            return this.bytes((v as PyBytes).value);
          default:
            break;
        }
        if (Object.getPrototypeOf(v) === Object.prototype) return this.dict(Object.entries(v), v);
      }
    }
    throw invalidArgType('value', 'picklable (null, boolean, number, bigint, string, Uint8Array, array, Map, plain object, PyTuple, PyGlobal, PyCall, py.*)', v);
  }
}

/**
 * Pickles `value` with protocol 4: what CPython's `pickle.dumps(value)` writes
 * for the same Python value. JS → Python: `null`/`undefined` → None, numbers →
 * int when integral (not -0) else float, `bigint` → int, strings → str,
 * `Uint8Array` → bytes, arrays → list, `Map`/plain objects → dict, `PyTuple`
 * (`py.tuple(...)`) → tuple, `PyGlobal`/`PyCall` → a global and a call of it.
 * @throws {TypeError} for a value with no Python counterpart
 */
export function dumps(value: unknown): Buffer {
  const p = new Pickler();
  const o = p.out;
  o.byte(Op.PROTO);
  o.byte(4);
  // FRAME and its length go first; the length is patched in once known.
  o.byte(Op.FRAME);
  o.u64(0);
  p.value(value);
  o.byte(Op.STOP);
  const all = o.result();
  const body = all.length - 11;
  if (body >= FRAME_SIZE_MIN) {
    o.patchU64(3, body);
    return all;
  }
  return Buffer.concat([all.subarray(0, 2), all.subarray(11)]);
}
