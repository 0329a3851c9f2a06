/**
 * What crosses to Python as a value and what by name, both directions (the
 * Python side is `shmbridge/_worker_values.py`, whose docstring lists the
 * references). Values are marshal (see marshal.ts); a block travels as the
 * tuple `(Ellipsis, i)` where the object goes, `refs[i]` naming it.
 *
 * Node → Python: `Tensor` → numpy array over the same memory; typed arrays
 * other than Uint8Array → numpy arrays (zero-copy when they are a view of an
 * open block, `SharedMemory.of`, else copied once into a block for the call);
 * `Uint8Array`/`Buffer` → `bytes`; an apache-arrow `Table` → `pyarrow.Table`
 * (by name when it is attached to a block, else shared into one for the call);
 * `ShareableList`, `SharedMemory` → the same in Python, untracked; JSON-like
 * values → Python values (safe integers → int, other numbers → float, bigint →
 * int, `py.*` forcing a type).
 */
import { SharedMemory, Tensor, closedError, invalidArgType, invalidArgValue, outOfRange, unlinkBlock, type DTypeName } from '@shmbridge/core';
import { PyBytes, PyFloat, PyInt, PyTuple, ShareableList } from '@shmbridge/python-compat';
import { attachTable, shareTable, tableBlock } from '@shmbridge/arrow';
import type { Table } from 'apache-arrow';
import { protocolError } from './errors.js';
import { CALL_HAS_PAYLOAD, CALL_HEADER, FRAME } from './frames.js';
import { MarshalWriter, TYPE, readRefsAndValue } from './marshal.js';

/** Buffers up to this size travel inside the message; larger ones in a block (as on the Python side). */
export const INLINE_BYTES = 1 << 20;
const MAX_DEPTH = 1000;

/**
 * Result blocks this process claimed: unlinked on arrival (so they cannot
 * leak), hence with no name to pass back to Python; a call copies them.
 */
const namelessBlocks = new WeakSet<SharedMemory>();

/** Marks a block whose name is gone (a call's copy, unlinked after the call), so it is copied when passed again. */
export function markNameless(shm: SharedMemory): void {
  namelessBlocks.add(shm);
}

/** Unlinks a block's name unless it is gone already (someone, or a crash cleanup, got there first). */
export function unlinkIfThere(name: string): void {
  try {
    unlinkBlock(name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

type TypedArrayCtor = { new (n: number): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };

const DTYPES = new Map<TypedArrayCtor, DTypeName>([
  [Int8Array, 'int8'], [Uint8ClampedArray, 'uint8'], [Int16Array, 'int16'], [Uint16Array, 'uint16'],
  [Int32Array, 'int32'], [Uint32Array, 'uint32'], [Float32Array, 'float32'], [Float64Array, 'float64'],
  [BigInt64Array, 'int64'], [BigUint64Array, 'uint64'],
]);
const DESCR: Record<string, string> = {
  int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4', float32: '<f4', float64: '<f8', int64: '<i8', uint64: '<u8',
};

function isTable(v: object): v is Table {
  // Duck-typed like shareTable: a Table from another copy of apache-arrow is still a table.
  const t = v as Partial<Table>;
  return typeof t.schema === 'object' && t.schema !== null && Array.isArray(t.batches) && typeof t.numRows === 'number';
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const EXPECTED = 'a JSON-like value (number, bigint, string, boolean, null, array, plain object), a Tensor, typed array, Buffer, ' +
  'apache-arrow Table, ShareableList, SharedMemory or py.int/py.float/py.bytes/py.tuple';

/** Writes a call's arguments as marshal, collecting the references and the blocks made for them. */
class ArgWriter {
  readonly refs: Array<Array<string | number | number[]>> = [];
  readonly #path: Array<string | number> = [];

  constructor(readonly w: MarshalWriter, readonly temps: SharedMemory[]) {}

  #where(): string {
    let s = '';
    for (const p of this.#path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
    return s;
  }

  #ref(ref: Array<string | number | number[]>): void {
    this.w.tuple(2);
    this.w.byte(TYPE.ELLIPSIS);
    this.w.int(this.refs.length);
    this.refs.push(ref);
  }

  value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'number':
        // Safe integers are ints, as JSON would give Python; -0 keeps its sign as a float.
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) this.w.int(v);
        else this.w.float(v);
        return;
      case 'string':
        if (!v.isWellFormed()) throw invalidArgValue(this.#where(), 'must be well-formed Unicode (it has a lone surrogate, which UTF-8 cannot carry)', v);
        this.w.str(v);
        return;
      case 'boolean':
        this.w.byte(v ? TYPE.TRUE : TYPE.FALSE);
        return;
      case 'bigint':
        this.w.bigint(v);
        return;
      case 'undefined':
        this.w.byte(TYPE.NONE);
        return;
      case 'object':
        if (v === null) {
          this.w.byte(TYPE.NONE);
          return;
        }
        if (depth > MAX_DEPTH) throw outOfRange(this.#where(), `nested at most ${MAX_DEPTH} levels deep (is it circular?)`, v);
        if (Array.isArray(v)) return this.#items(v, depth, false);
        return this.#object(v, depth);
      default:
        throw invalidArgType(this.#where(), EXPECTED, v);
    }
  }

  #items(items: readonly unknown[], depth: number, tuple: boolean): void {
    if (tuple) this.w.tuple(items.length);
    else this.w.list(items.length);
    for (let i = 0; i < items.length; i++) {
      this.#path.push(i);
      this.value(items[i], depth + 1);
      this.#path.pop();
    }
  }

  dict(obj: object, depth: number): void {
    this.w.byte(TYPE.DICT);
    for (const key of Object.keys(obj)) {
      this.w.str(key);
      this.#path.push(key);
      this.value((obj as Record<string, unknown>)[key], depth + 1);
      this.#path.pop();
    }
    this.w.byte(TYPE.NULL);
  }

  /** The positional arguments, a list (`args[i]…` in error messages). */
  args(items: readonly unknown[]): void {
    this.#path.push('args');
    this.#items(items, 0, false);
    this.#path.pop();
  }

  /** The keyword arguments, a dict (`kwargs.name…` in error messages). */
  kwargs(obj: object): void {
    this.#path.push('kwargs');
    this.dict(obj, 0);
    this.#path.pop();
  }

  #object(v: object, depth: number): void {
    if (v instanceof Tensor) {
      if (v.shm.closed) throw closedError('Tensor', v.shm.name);
      if (namelessBlocks.has(v.shm)) return this.#tensorCopy(v);
      return this.#ref(['tensor', v.shm.name, v.descr, [...v.shape], v.offset, [...v.strides]]);
    }
    if (ArrayBuffer.isView(v)) return this.#view(v);
    if (v instanceof SharedMemory) {
      if (v.closed) throw closedError('SharedMemory', v.name);
      return this.#ref(['shm', v.name]);
    }
    if (v instanceof ShareableList) {
      if (v.shm.closed) throw closedError('ShareableList', v.shm.name);
      return this.#ref(['list', v.shm.name]);
    }
    if (v instanceof PyInt) return this.w.bigint(v.value);
    if (v instanceof PyFloat) return this.w.float(v.value);
    if (v instanceof PyBytes) return this.#bytes(v.value);
    if (v instanceof PyTuple) return this.#items(v.items, depth, true);
    if (isTable(v)) {
      const shm = tableBlock(v);
      if (shm && !shm.closed) return this.#ref(['table', shm.name]);
      const shared = shareTable(v);
      this.temps.push(shared.shm);
      return this.#ref(['table', shared.shm.name]);
    }
    if (isPlainObject(v)) return this.dict(v, depth);
    throw invalidArgType(this.#where(), EXPECTED, v);
  }

  /** A result Tensor (its block has no name): its bytes, first to last element, copied into a block for the call. */
  #tensorCopy(t: Tensor): void {
    const data = t.data as ArrayBufferView;
    const shm = SharedMemory.create(Math.max(data.byteLength, 1));
    this.temps.push(shm);
    shm.buf.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.#ref(['tensor', shm.name, t.descr, [...t.shape], 0, [...t.strides]]);
  }

  #bytes(v: Uint8Array): void {
    if (v.length <= INLINE_BYTES) return this.w.bytes(v);
    const shm = SharedMemory.create(v.length);
    this.temps.push(shm);
    shm.buf.set(v);
    this.#ref(['bytes', shm.name, v.length]);
  }

  #view(v: ArrayBufferView): void {
    if (v instanceof Uint8Array) return this.#bytes(v);
    const ctor = v.constructor as TypedArrayCtor;
    const dtype = DTYPES.get(ctor) ?? [...DTYPES].find(([c]) => v instanceof c)?.[1];
    if (dtype === undefined) throw invalidArgType(this.#where(), `${EXPECTED} (a DataView has no element type: pass a typed array)`, v);
    const length = v.byteLength / ctor.BYTES_PER_ELEMENT;
    const block = SharedMemory.of(v);
    if (block && !namelessBlocks.has(block)) {
      return this.#ref(['tensor', block.name, DESCR[dtype]!, [length], v.byteOffset, [ctor.BYTES_PER_ELEMENT]]);
    }
    const t = Tensor.create({ dtype, shape: [length] });
    this.temps.push(t.shm);
    (t.data as unknown as { set(a: ArrayBufferView): void }).set(v);
    this.#ref(['tensor', t.shm.name, t.descr, [length], t.offset, [...t.strides]]);
  }

  refList(): void {
    this.w.list(this.refs.length);
    for (const ref of this.refs) {
      this.w.tuple(ref.length);
      for (const part of ref) {
        if (typeof part === 'string') this.w.str(part);
        else if (typeof part === 'number') this.w.int(part);
        else {
          this.w.list(part.length);
          for (const n of part) this.w.int(n);
        }
      }
    }
  }
}

/**
 * The CALL frame for `fn(*args, **kwargs)`. Blocks made for arguments are
 * pushed to `temps` as they are made, so a caller can unlink them even when
 * this throws halfway.
 * @throws {TypeError} `ERR_INVALID_ARG_TYPE`/`ERR_INVALID_ARG_VALUE` for a value that cannot cross, naming where it is
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a message over `maxFrameBytes`
 */
export function callFrame(id: number, fn: string, fnBytes: number, args: readonly unknown[], kwargs: object, temps: SharedMemory[], maxFrameBytes: number): Buffer {
  const empty = args.length === 0 && Object.keys(kwargs).length === 0;
  const w = new MarshalWriter(empty ? CALL_HEADER + fnBytes : 256 + fnBytes, CALL_HEADER);
  w.buf.write(fn, CALL_HEADER, 'utf8');
  w.pos += fnBytes;
  if (!empty) {
    const tupleAt = w.pos;
    w.tuple(2);
    const a = new ArgWriter(w, temps);
    a.args(args);
    a.kwargs(kwargs);
    if (a.refs.length) {
      w.buf.writeUInt32LE(3, tupleAt + 1);
      a.refList();
    }
  }
  const body = w.pos - 4;
  if (body > maxFrameBytes) {
    throw outOfRange('args', `at most ${maxFrameBytes} bytes as a message (maxFrameBytes); pass large data as a Tensor, typed array, Buffer or Table, which travel in shared memory`, `${body} bytes`);
  }
  const buf = w.buf;
  buf.writeUInt32LE(body, 0);
  buf[4] = FRAME.CALL;
  buf.writeUInt32LE(id, 5);
  buf[9] = empty ? 0 : CALL_HAS_PAYLOAD;
  buf.writeUInt16LE(fnBytes, 10);
  return buf.subarray(0, w.pos);
}

/** The RELEASE frame: result blocks Node has attached and unlinked. */
export function releaseFrame(names: readonly string[]): Buffer {
  const w = new MarshalWriter(16 + names.length * 20, 5);
  w.list(names.length);
  for (const n of names) w.str(n);
  w.buf.writeUInt32LE(w.pos - 4, 0);
  w.buf[4] = FRAME.RELEASE;
  return w.buf.subarray(0, w.pos);
}

// --- Python → Node -------------------------------------------------------

interface Ref {
  kind: string;
  name: string;
  owned: boolean;
  parts: unknown[];
}

function parseRef(raw: unknown): Ref {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string' || typeof raw[1] !== 'string') throw protocolError('a malformed reference');
  const kind = raw[0];
  const owned = kind === 'tensor' ? raw[6] : kind === 'table' ? raw[2] : kind === 'bytes' ? raw[3] : false;
  if (typeof owned !== 'boolean') throw protocolError(`a malformed ${kind} reference`);
  return { kind, name: raw[1], owned, parts: raw };
}

function attachRef(ref: Ref, views: SharedMemory[]): unknown {
  const p = ref.parts;
  switch (ref.kind) {
    case 'tensor': {
      const t = Tensor.attach({ name: ref.name, dtype: p[2] as string, shape: p[3] as number[], offset: p[4] as number, strides: p[5] as number[] });
      if (ref.owned) namelessBlocks.add(t.shm);
      else views.push(t.shm);
      return t;
    }
    case 'table':
      return attachTable(ref.name);
    case 'bytes': {
      const size = p[2];
      const shm = SharedMemory.attach(ref.name);
      if (typeof size !== 'number' || size > shm.size) {
        shm.close();
        throw protocolError(`a bytes reference of ${String(size)} bytes in a block of ${shm.size}`);
      }
      return shm.view(Uint8Array, { length: size });
    }
    case 'shm': {
      const shm = SharedMemory.attach(ref.name);
      return shm;
    }
    case 'list':
      return ShareableList.attach(ref.name);
    default:
      throw protocolError(`an unknown reference kind '${ref.kind}'`);
  }
}

function closeObject(o: unknown): void {
  if (o instanceof Tensor || o instanceof ShareableList) o.shm.close();
  else if (o instanceof SharedMemory) o.close();
}

/**
 * Reads a RESULT payload `(refs, value)`: attaches every referenced block,
 * unlinks the ones Python created for this result (Node owns them now, and
 * nobody else can reach them), and returns the value with the objects in place.
 * `claimed` receives the unlinked names, for the RELEASE frame — also when
 * attaching fails, in which case this throws after cleaning up. `views`
 * receives the blocks of tensors that are views of blocks Node passed in.
 */
export function readResult(body: Buffer, at: number, claimed: string[], views: SharedMemory[]): unknown {
  return readRefsAndValue(body, at, body.length, (rawRefs) => {
    const refs = rawRefs.map(parseRef);
    const objects: unknown[] = [];
    try {
      for (const ref of refs) objects.push(attachRef(ref, views));
      return objects;
    } catch (err) {
      for (const o of objects) closeObject(o);
      throw err;
    } finally {
      for (const ref of refs) {
        if (!ref.owned || claimed.includes(ref.name)) continue;
        unlinkIfThere(ref.name);
        claimed.push(ref.name);
      }
    }
  });
}
