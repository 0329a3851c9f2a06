/**
 * `ShareableList`: CPython's `multiprocessing.shared_memory.ShareableList` for
 * Node, byte for byte. A list made here is the block CPython would have made
 * from the same values; every list CPython makes (3.8–3.13) reads here.
 */
import { inspect, type InspectOptions } from 'node:util';
import { z } from 'zod';
import { closedError, outOfRange, parseArg, SharedMemory, valueNotFound } from '@shmbridge/core';
import { pyEquals, pyRepr, type PyInput, type PyValue } from '../py.js';
import { encodeValue, formatString, Kind, readFormat, readValue, writeFormatOf, writeValue, type CodecOptions, type Encoded } from './codec.js';
import { layoutFor, readLayout, writeHeader, type Layout, type LayoutKind } from './layout.js';

/** Options of `new ShareableList(sequence, options)` and {@link ShareableList.attach}. */
export interface ShareableListOptions {
  /** Block name: attach to it (with a `null` sequence) or create under it. */
  name?: string;
  /** Ints read as `bigint` always (`'bigint'`), or as `number` when safe (`'number'`, default). */
  int64?: 'number' | 'bigint';
  /**
   * The workaround documented for gh-106939: CPython strips trailing NULs from
   * str/bytes on read. With `true`, a non-zero byte (0x07) is appended on every
   * write and dropped on every read, so values ending in `\0` survive. Both sides
   * must use it. Default `false` (strip, like CPython).
   */
  nulSentinel?: boolean;
  /** Creating: track the block for cleanup at exit (see `SharedMemory`). Default `true`. */
  track?: boolean;
  /**
   * Creating: the block layout. `'cpython-3.9'` (default) is what CPython 3.9–3.13
   * write; `'cpython-3.8'` is for lists that CPython 3.8 must read.
   */
  layout?: LayoutKind;
}

/** The JSON handle of a list: `ShareableList.attach(handle.name)` revives it in any process. */
export interface ShareableListHandle {
  name: string;
}

const optionsSchema = z
  .object({
    name: z.string().optional(),
    int64: z.enum(['number', 'bigint']).optional(),
    nulSentinel: z.boolean().optional(),
    track: z.boolean().optional(),
    layout: z.enum(['cpython-3.9', 'cpython-3.8']).optional(),
  })
  .strict()
  .optional();

const dispose: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

/**
 * A fixed-length list of Python values in a shared memory block, laid out
 * exactly as CPython's `ShareableList`.
 *
 * Values, JS → Python: integral `number`/`bigint` → `int`; other `number` →
 * `float`; `boolean` → `bool`; `null`/`undefined` → `None`; `string` → `str`;
 * `Uint8Array` → `bytes`; `py.int`/`py.float`/`py.bytes` force a type.
 * Python → JS: `int` → `number` (or `bigint` past 2^53, or always with
 * `{ int64: 'bigint' }`), `float` → `number`, `bool`, `None` → `null`,
 * `str` → `string`, `bytes` → `Uint8Array`.
 *
 * Index it like Python's list: `sl[2]`, `sl[-1]`, `sl[2] = 'x'` are `get` /
 * `set` (same checks, same errors: an index past either end throws, as
 * Python's IndexError, instead of reading `undefined` or adding a property);
 * `sl.length` is `len(sl)`.
 *
 * @example
 * ```ts
 * import { ShareableList, py } from '@shmbridge/python-compat';
 * const sl = new ShareableList(['howdy', py.bytes('HoWdY'), -273.154, 100, null, true, 42]);
 * sl.format;                  // '8s8sdqxxxxxx?xxxxxxxx?q'
 * sl.set(2, 'hi');            // type may change; str must fit the slot
 * sl[3] = sl[-1];             // sl[i] is sl.get(i), sl[i] = v is sl.set(i, v)
 * const other = ShareableList.attach(sl.shm.name);   // Python: ShareableList(name=...)
 * other.get(2);               // 'hi'
 * other.close();
 * sl.shm.close().unlink();
 * ```
 */
export class ShareableList implements Iterable<PyValue> {
  /**
   * `sl[i]` reads like {@link get}, `sl[i] = v` writes like {@link set}
   * (negative from the end; out of range throws `ERR_OUT_OF_RANGE`).
   */
  [index: number]: PyValue;
  /** The block behind the list. */
  readonly shm: SharedMemory;
  readonly #layout: Layout;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #codec: CodecOptions;

  /**
   * Creates a list from `sequence`, or — with `sequence` `null` and a `name` —
   * attaches to an existing one (Python's `ShareableList(name=...)`).
   * @throws {TypeError|RangeError} for an item that cannot be stored (its index
   *   is in the message) or bad options — before anything is created
   * @throws {SyscallError} from creating or attaching the block (`EEXIST`, `ENOENT`…)
   * @throws `ERR_SHM_CORRUPT` attaching to a block that is not a valid list
   */
  constructor(sequence: Iterable<PyInput> | null | undefined, options?: ShareableListOptions) {
    // Validate arguments
    const o = parseArg(optionsSchema, options, 'options') ?? {};
    this.#codec = { bigintInts: o.int64 === 'bigint', nulSentinel: o.nulSentinel ?? false };
    if (sequence == null) {
      if (o.name === undefined) sequence = [];
      else {
        this.shm = SharedMemory.attach(o.name);
        this.#bytes = this.shm.view(Uint8Array); // not the Buffer: its slice() would alias the block
        this.#view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.byteLength);
        try {
          this.#layout = readLayout(this.#view, this.shm.name);
        } catch (err) {
          this.shm.close();
          throw err;
        }
        return;
      }
    }
    // Encode every item first: a refused item creates nothing.
    const items: Encoded[] = [];
    let i = 0;
    for (const value of sequence) items.push(encodeValue(value, 'sequence', i++, this.#codec));
    const layout = layoutFor(items.map((e) => e.allocation), o.layout ?? 'cpython-3.9');
    this.shm = SharedMemory.create(Math.max(layout.size, 1), { name: o.name, track: o.track ?? true });
    this.#layout = layout;
    this.#bytes = this.shm.view(Uint8Array);
    this.#view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset, this.#bytes.byteLength);
    // The block is new and zero-filled: only non-zero parts need writing.
    writeHeader(this.#view, layout);
    for (let j = 0; j < items.length; j++) {
      const e = items[j]!;
      writeValue(this.#view, this.#bytes, layout.dataStart + layout.offsets[j]!, e, e.allocation);
      writeFormatOf(this.#view, this.#bytes, layout.formatsStart + j * 8, e, e.allocation);
      this.#bytes[layout.codesStart + j] = e.code;
    }
  }

  /**
   * Attaches to the list in block `name` (Python's `ShareableList(name=name)`).
   * @throws {SyscallError} `ENOENT`…; `ERR_SHM_CORRUPT` if the block is not a valid list
   * @example
   * ```ts
   * const sl = new ShareableList([1, 2, 3]);
   * const same = ShareableList.attach(sl.shm.name);
   * same.length; // 3
   * same.close(); sl.shm.close().unlink();
   * ```
   */
  static attach(name: string, options?: Omit<ShareableListOptions, 'name' | 'track' | 'layout'>): ShareableList {
    return new ShareableList(null, { ...options, name });
  }

  /** Number of items (fixed at creation). */
  get length(): number {
    return this.#layout.length;
  }

  /** Which CPython layout the block uses. */
  get layout(): LayoutKind {
    return this.#layout.kind;
  }

  #index(position: number, argName: string): number {
    const n = this.#layout.length;
    const i = position < 0 ? position + n : position;
    if (!(i >= 0 && i < n) || !Number.isInteger(i)) {
      throw outOfRange(argName, n ? `an integer from ${-n} to ${n - 1} (the list has ${n} items)` : 'valid, but the list is empty', position);
    }
    if (this.shm.closed) throw closedError('ShareableList', this.shm.name);
    return i;
  }

  /**
   * The item at `position` (negative counts from the end, like Python).
   * @throws {RangeError} `ERR_OUT_OF_RANGE` past either end (Python's IndexError)
   * @throws `ERR_SHM_CORRUPT` if another process left the item's format or code invalid
   */
  get(position: number): PyValue {
    return readValue(this.#view, this.#bytes, this.#layout, this.#index(position, 'position'), this.shm.name, this.#codec);
  }

  /** Same as {@link get}: the item at `position`, negative from the end. */
  at(position: number): PyValue {
    return this.get(position);
  }

  /**
   * Replaces the item at `position`, as CPython's `__setitem__`: the type may
   * change; str/bytes must fit the slot allocated at creation. A refused set
   * changes no byte.
   * @throws {RangeError} "exceeds available storage" for a str/bytes longer than
   *   its slot; an int outside int64; a position out of range
   * @throws {TypeError} for a value a ShareableList cannot hold
   */
  set(position: number, value: PyInput): void {
    const i = this.#index(position, 'position');
    const layout = this.#layout;
    const e = encodeValue(value, 'value', -1, this.#codec);
    const slot = layout.offsets[i + 1]! - layout.offsets[i]!;
    let k = 8;
    if (e.kind === Kind.Chars) {
      if (e.byteLength > slot) {
        throw outOfRange('value', `at most ${slot} bytes: bytes/str item exceeds available storage`, e.byteLength);
      }
      // CPython keeps a str slot's current "{k}s" format and otherwise takes the whole slot.
      const current = readFormat(this.#view, this.#bytes, layout, i, this.shm.name);
      k = current.kind === Kind.Chars && current.k >= e.byteLength ? current.k : slot;
    }
    writeFormatOf(this.#view, this.#bytes, layout.formatsStart + i * 8, e, k);
    this.#bytes[layout.codesStart + i] = e.code;
    writeValue(this.#view, this.#bytes, layout.dataStart + layout.offsets[i]!, e, k);
  }

  /** The `struct` format of all current items, as Python's `.format`. */
  get format(): string {
    if (this.shm.closed) throw closedError('ShareableList', this.shm.name);
    return formatString(this.#view, this.#bytes, this.#layout, this.shm.name);
  }

  *[Symbol.iterator](): IterableIterator<PyValue> {
    for (let i = 0; i < this.#layout.length; i++) yield this.get(i);
  }

  /** Number of items equal to `value` by Python's `==` (`1 == 1.0 == True`). */
  count(value: PyInput): number {
    let n = 0;
    for (const item of this) if (pyEquals(item, value)) n++;
    return n;
  }

  /**
   * Position of the first item equal to `value` by Python's `==`.
   * @throws `ERR_VALUE_NOT_FOUND` (named `ValueError`) when absent, with CPython's
   *   message: `'x' not in this container`
   */
  index(value: PyInput): number {
    let i = 0;
    for (const item of this) {
      if (pyEquals(item, value)) return i;
      i++;
    }
    throw valueNotFound(pyRepr(value));
  }

  /** The handle `{ name }`. */
  toJSON(): ShareableListHandle {
    return { name: this.shm.name };
  }

  /** Plain array copy of the items. */
  toArray(): PyValue[] {
    return [...this];
  }

  /** Closes the block (not unlink: `sl.shm.unlink()` removes it). Idempotent. */
  close(): this {
    this.shm.close();
    return this;
  }

  [dispose](): void {
    this.close();
  }

  /** Like Python's repr: `ShareableList(['a', 1], name='psm_…')`. */
  [inspect.custom](_depth: number, opts: InspectOptions): string {
    const items = this.shm.closed ? '<closed>' : inspect(this.toArray(), { ...opts, depth: 1 });
    return `ShareableList(${items}, name='${this.shm.name}')`;
  }
}


/**
 * `sl[i]` and `sl[i] = v`. Index keys are the one kind of property neither an
 * instance nor ShareableList.prototype has, so their lookups fall through to
 * this proxy at the top of the prototype chain, with the list as receiver,
 * and become `get`/`set`. Every other property (the methods, `length`) is
 * found before the proxy, so method calls cost what they cost on a plain
 * class; a proxy around each instance would trap every one of them (see
 * bench/python-compat/shareable-list.bench.ts, "sl[i]" rows).
 */
function indexOf(key: string | symbol): number | undefined {
  // Any canonical number ('1.5', 'NaN' too) goes to get/set, which refuses a
  // non-integer loudly (Python's TypeError) rather than reading undefined.
  if (typeof key !== 'string') return undefined;
  const n = Number(key);
  return String(n) === key || key === '-0' ? n : undefined;
}

Object.setPrototypeOf(ShareableList.prototype, new Proxy(Object.prototype, {
  get(target, key, receiver) {
    const i = indexOf(key);
    return i !== undefined && receiver instanceof ShareableList ? receiver.get(i) : Reflect.get(target, key, receiver);
  },
  set(target, key, value, receiver) {
    const i = indexOf(key);
    if (i === undefined || !(receiver instanceof ShareableList)) return Reflect.set(target, key, value, receiver);
    receiver.set(i, value as PyInput);
    return true;
  },
}));
