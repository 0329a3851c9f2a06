/**
 * `SharedMemory`: CPython's `multiprocessing.shared_memory.SharedMemory` for
 * Node. Same names, same flags (`O_CREAT | O_EXCL | O_RDWR`, mode 0600), same
 * `name`/`size`/`buf`/`close()`/`unlink()`, so either language attaches to
 * what the other created.
 */
import { constants } from 'node:os';
import { inspect } from 'node:util';
import { markAsUntransferable } from 'node:worker_threads';
import { closedError, invalidArgType, invalidArgValue, outOfRange, syscallError } from './errors.js';
import { checkMappingRoom, noteMapping } from './gc-pressure.js';
import { checkName, generateName } from './names.js';
import { native, type StatTuple } from './native.js';
import { ensureTracker, register, unregister } from './tracker.js';
import { isValidOptions, isValidViewOptions, optionsSchema, viewOptionsSchema } from './options.js';
import { parseArg } from './validate.js';
import { makeView, MAX_VIEW_ELEMENTS, type TypedArray, type TypedArrayConstructor, type ViewOptions } from './views.js';

/** Options of `new SharedMemory(options)`, Python's `SharedMemory(name, create, size, *, track)`. */
export interface SharedMemoryOptions {
  /** Name without the leading slash. Optional when creating: a `psm_…` name is generated. */
  name?: string | null;
  /** Create a new block (it must not exist) instead of attaching to one. Default `false`. */
  create?: boolean;
  /** Bytes, when creating: a positive integer. Ignored when attaching (the block's size is used). */
  size?: number;
  /**
   * Unlink the block when this process exits, even by SIGKILL, unless it was
   * unlinked before (creator-side tracking, like CPython's resource tracker).
   * Only blocks this process creates are ever tracked. Default `true`.
   */
  track?: boolean;
  /**
   * Allocate the block's pages at create (`posix_fallocate`), so a full
   * `/dev/shm` fails now with `ENOSPC` rather than with SIGBUS on a later
   * write. Default `true`.
   */
  reserve?: boolean;
  /**
   * Map the block's pages in at once (`MAP_POPULATE`) instead of faulting them
   * in one by one on first touch. Default `true` when creating — on this
   * project's reference machine it halves create + first full write (see
   * bench/core/reserve.bench.ts) — and `false` when attaching, so attaching
   * costs the same whatever the block's size. Linux only; ignored elsewhere.
   */
  populate?: boolean;
}

/** Options of {@link SharedMemory.create}. */
export type CreateOptions = Omit<SharedMemoryOptions, 'create' | 'size'>;

/** The JSON handle of a block: enough to attach to it from any process. */
export interface SharedMemoryHandle {
  name: string;
  size: number;
}

const { O_CREAT, O_EXCL, O_RDWR, MAP_POPULATE } = native.constants;
const { EEXIST, EINVAL, ENOTSUP, EOPNOTSUPP } = constants.errno;
const MODE = 0o600; // shared_memory.py: SharedMemory._mode

/**
 * Each mapping's ArrayBuffer → the SharedMemory that owns it, for
 * {@link SharedMemory.of}. Weak: a view keeps its buffer, and so this entry,
 * alive only as long as the view lives.
 */
const owners = new WeakMap<ArrayBuffer, SharedMemory>();

/** Held only here, so nothing else can detach a mapping (see native/addon.cc, Map and Unmap). */
const DETACH_KEY = Object.freeze({ shmbridge: 'mapping' });

/** `Symbol.dispose`, also where a realm (a vm context) lacks it. */
const dispose: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

interface Mapped {
  name: string;
  size: number;
  buffer: ArrayBuffer;
}

function statOrThrow(fd: number, name: string): StatTuple {
  const st = native.stat(fd);
  if (typeof st === 'number') throw syscallError(st, 'fstat', name);
  return st;
}

function map(fd: number, size: number, name: string, populate: boolean): ArrayBuffer {
  checkMappingRoom(name);
  const buffer = native.map(fd, size, populate ? MAP_POPULATE : 0, DETACH_KEY);
  if (typeof buffer === 'number') throw syscallError(buffer, 'mmap', name);
  markAsUntransferable(buffer);
  noteMapping();
  return buffer;
}

/** Opens with O_CREAT|O_EXCL, retrying generated names that collide. */
function openNew(name: string | undefined): { fd: number; name: string } {
  for (;;) {
    const candidate = name ?? generateName();
    const fd = native.open(`/${candidate}`, O_CREAT | O_EXCL | O_RDWR, MODE);
    if (fd >= 0) return { fd, name: candidate };
    if (name !== undefined || fd !== -EEXIST) throw syscallError(fd, 'shm_open', candidate);
  }
}

/** A new block being set up: created, sized and registered, not yet reserved or mapped. */
interface Opened {
  fd: number;
  name: string;
  size: number;
  registered: boolean;
}

function openSized(requested: string | undefined, size: number, track: boolean): Opened {
  if (track) ensureTracker();
  const { fd, name } = openNew(requested);
  const opened: Opened = { fd, name, size, registered: false };
  try {
    const t = native.truncate(fd, size);
    if (t < 0) throw syscallError(t, 'ftruncate', name);
    // The size is what fstat reports, as in CPython (macOS rounds it up to a
    // page); Linux keeps it exact, so an untracked create skips the syscall.
    // The tracker needs the inode, to never unlink a later block of that name.
    if (track || process.platform !== 'linux') {
      const [statSize, , , , ino] = statOrThrow(fd, name);
      opened.size = statSize;
      if (track) {
        register(name, ino);
        opened.registered = true;
      }
    }
    return opened;
  } catch (err) {
    abandon(opened);
    throw err;
  }
}

/** As shared_memory.py does: a block we failed to set up is unlinked. */
function abandon(o: Opened): void {
  native.unlink(`/${o.name}`);
  if (o.registered) unregister(o.name);
  native.close(o.fd);
}

function checkReserved(r: number, name: string): void {
  // ENOTSUP/EOPNOTSUPP: the platform or filesystem cannot reserve (macOS).
  if (r < 0 && r !== -ENOTSUP && r !== -EOPNOTSUPP) throw syscallError(r, 'posix_fallocate', name);
}

function createBlock(requested: string | undefined, size: number, track: boolean, reserve: boolean, populate: boolean): Mapped {
  const o = openSized(requested, size, track);
  let buffer: ArrayBuffer;
  try {
    if (reserve) checkReserved(native.reserve(o.fd, o.size), o.name);
    buffer = map(o.fd, o.size, o.name, populate);
  } catch (err) {
    abandon(o);
    throw err;
  }
  native.close(o.fd);
  return { name: o.name, size: o.size, buffer };
}

/**
 * {@link createBlock} with its two size-proportional steps — reserving the
 * pages (`posix_fallocate`) and mapping them in — on libuv's thread pool;
 * the rest (open, size, register, map) takes microseconds on the event loop.
 */
async function createBlockAsync(requested: string | undefined, size: number, track: boolean, reserve: boolean, populate: boolean): Promise<Mapped> {
  const o = openSized(requested, size, track);
  let buffer: ArrayBuffer | undefined;
  try {
    if (reserve) checkReserved(await native.reserveAsync(o.fd, o.size), o.name);
    buffer = map(o.fd, o.size, o.name, false);
    if (populate && MAP_POPULATE !== 0) await populateAsync(buffer, reserve);
  } catch (err) {
    if (buffer !== undefined) native.unmap(buffer, false, DETACH_KEY); // no view of it was handed out
    abandon(o);
    throw err;
  }
  native.close(o.fd);
  return { name: o.name, size: o.size, buffer };
}

/**
 * What MAP_POPULATE does for a sync create, on the thread pool. Best effort,
 * like MAP_POPULATE, whose failures mmap(2) does not report either: a page
 * not mapped in now is faulted in on first touch.
 */
async function populateAsync(buffer: ArrayBuffer, reserved: boolean): Promise<void> {
  const r = await native.populateAsync(buffer, false);
  // EINVAL: no MADV_POPULATE_WRITE (Linux < 5.14). Touching the pages instead
  // is safe only when they are reserved: on a full /dev/shm a touch is SIGBUS.
  if (r === -EINVAL && reserved) await native.populateAsync(buffer, true);
}

function attachBlock(name: string, populate: boolean): Mapped {
  const fd = native.open(`/${name}`, O_RDWR, 0);
  if (fd < 0) throw syscallError(fd, 'shm_open', name);
  try {
    const [size] = statOrThrow(fd, name);
    // mmap refuses length 0 (EINVAL); say why: the creator has not sized it yet, or never will.
    if (size === 0) throw Object.assign(syscallError(-EINVAL, 'mmap', name), { message: `EINVAL: cannot map an empty block (size 0), mmap '${name}'` });
    return { name, size, buffer: map(fd, size, name, populate) };
  } finally {
    native.close(fd);
  }
}

/**
 * A size to create: a positive safe integer. Checked by hand, before the
 * schema, so a missing or zero size says so ("Received undefined") rather
 * than what a default made of it.
 */
function checkSize(size: unknown, argName: string): void {
  if (Number.isSafeInteger(size) && (size as number) > 0) return;
  if (typeof size !== 'number') throw invalidArgType(argName, 'of type number (bytes) when creating', size);
  throw outOfRange(argName, `a positive integer (bytes, at most ${Number.MAX_SAFE_INTEGER}) when creating`, size);
}

/** Python's positional `SharedMemory(name, create, size, *, track)` as an options object. */
function positional(name: unknown, second: unknown, size: unknown, keywords: unknown, count: number): SharedMemoryOptions {
  if (name !== null && typeof name !== 'string') throw invalidArgType('name', 'of type string (or null with create)', name);
  const named = name ?? undefined;
  if (named === undefined && count === 1) throw invalidArgType('name', 'a string when attaching (create is false)', name);
  if (second === undefined || (typeof second === 'object' && second !== null && count <= 2)) {
    const rest: SharedMemoryOptions = parseArg(optionsSchema, second ?? {}, 'options', isValidOptions);
    if ('name' in rest) throw invalidArgValue('options', 'must not repeat the name given as the first argument', second);
    return { ...rest, name: named };
  }
  if (typeof second !== 'boolean') throw invalidArgType('create', 'of type boolean', second);
  if (second) checkSize(size, 'size');
  else if (named === undefined) throw invalidArgType('name', 'a string when attaching (create is false)', name);
  const k: SharedMemoryOptions = parseArg(optionsSchema, keywords ?? {}, 'options', isValidOptions);
  if ('name' in k || 'create' in k || 'size' in k) throw invalidArgValue('options', 'takes only track, reserve and populate after (name, create, size)', keywords);
  return { name: named, create: second, size: second ? (size as number) : undefined, track: k.track, reserve: k.reserve, populate: k.populate };
}

/** A block set up by createAsync, handed to the constructor (module-private). */
class Adopt {
  constructor(readonly mapped: Mapped, readonly tracked: boolean) {}
}

/**
 * A named POSIX shared memory block, mapped into this process.
 *
 * Byte-compatible with CPython: a block made here is attached by Python's
 * `SharedMemory(name)` and vice versa.
 *
 * @example
 * ```ts
 * import { SharedMemory } from '@shmbridge/core';
 * const shm = SharedMemory.create(1024);           // like SharedMemory(create=True, size=1024)
 * shm.buf.write('hello');
 * const same = SharedMemory.attach(shm.name);       // like SharedMemory(name)
 * console.log(same.buf.toString('utf8', 0, 5));     // 'hello'
 * same.close();
 * shm.close().unlink();
 * ```
 */
export class SharedMemory {
  /** The block's name, without the leading slash, exactly as Python's `.name` reports it. */
  readonly name: string;
  /** The block's size in bytes, as fstat reports it (Python's `.size`). */
  readonly size: number;
  /** Whether this process created the block and tracks it for cleanup at exit. */
  get tracked(): boolean {
    return this.#tracked;
  }

  #buffer: ArrayBuffer | undefined;
  /** Whether a view of the mapping was handed out (`buf`, `view()`). */
  #exposed = false;
  #buf: Buffer | undefined;
  #tracked: boolean;

  /**
   * Creates a block or attaches to one, as Python's
   * `SharedMemory(name=None, create=False, size=0, *, track=True)`: with an
   * options object (Python's keywords), or positionally as in Python —
   * `new SharedMemory('psm_1a2b3c4d')` attaches by name,
   * `new SharedMemory(null, true, 1024)` creates — with the keyword-only
   * options (`track`, `reserve`, `populate`) last.
   * @throws {TypeError|RangeError} for bad arguments, before any syscall
   *   (`size` must be a positive integer when creating; `name` is required when attaching).
   * @throws {SyscallError} `EEXIST` creating a name that exists, `ENOENT` attaching
   *   to one that does not, `EACCES`, `ENOSPC`, `EMFILE`…
   * @example
   * ```ts
   * const a = new SharedMemory({ create: true, size: 10 });  // SharedMemory(create=True, size=10)
   * const b = new SharedMemory(a.name);                       // SharedMemory(a.name)
   * const c = new SharedMemory({ name: a.name });              // SharedMemory(name=a.name)
   * c.close(); b.close(); a.close(); a.unlink();
   * ```
   */
  constructor(options: SharedMemoryOptions);
  constructor(name: string, options?: Omit<SharedMemoryOptions, 'name'>);
  constructor(name: string | null, create: boolean, size?: number, options?: CreateOptions);
  constructor(nameOrOptions: SharedMemoryOptions | string | null | Adopt, createOrOptions?: boolean | Omit<SharedMemoryOptions, 'name'>, size?: number, keywords?: CreateOptions) {
    if (nameOrOptions instanceof Adopt) {
      this.name = nameOrOptions.mapped.name;
      this.size = nameOrOptions.mapped.size;
      this.#buffer = nameOrOptions.mapped.buffer;
      this.#tracked = nameOrOptions.tracked;
      owners.set(this.#buffer, this);
      return;
    }
    // Apply Python's positional form: (name, create, size, *, track) or (name, { …keywords })
    let options = nameOrOptions as SharedMemoryOptions;
    if (typeof nameOrOptions === 'string' || nameOrOptions === null || arguments.length > 1) {
      options = positional(nameOrOptions, createOrOptions, size, keywords, arguments.length);
    } else if (typeof nameOrOptions !== 'object') {
      throw invalidArgType('options', 'of type object (Python\'s keywords) or string (a name to attach)', nameOrOptions);
    }
    // Validate arguments
    if (options?.create === true) checkSize(options.size, 'options.size');
    const o = parseArg(optionsSchema, options, 'options', isValidOptions);
    const name = o.name == null ? undefined : checkName(o.name, 'options.name');
    // Interpret options, with CPython's rules
    let mapped: Mapped;
    if (o.create) {
      mapped = createBlock(name, o.size!, o.track ?? true, o.reserve ?? true, o.populate ?? true);
    } else {
      if (name === undefined) throw invalidArgType('options.name', 'a string when attaching (create is false)', o.name);
      mapped = attachBlock(name, o.populate ?? false);
    }
    this.name = mapped.name;
    this.size = mapped.size;
    this.#buffer = mapped.buffer;
    this.#tracked = Boolean(o.create && (o.track ?? true));
    owners.set(this.#buffer, this);
  }

  /**
   * Creates a new block of `size` bytes.
   * @param size bytes, a positive integer
   * @param options `name` (generated `psm_…` when omitted), `track`, `reserve`
   * @throws {RangeError|TypeError} for a bad size or name, before any syscall
   * @throws {SyscallError} `EEXIST`, `ENOSPC`, `EACCES`…
   * @example
   * ```ts
   * const jobs = SharedMemory.create(1 << 20, { name: 'jobs' });
   * jobs.close().unlink();
   * ```
   */
  static create(size: number, options: CreateOptions = {}): SharedMemory {
    checkSize(size, 'size');
    // Not `{ ...options, create: true, size }`: V8 spreads an options object
    // in ~2 µs here (a literal: ~16 ns), which was a tenth of a whole create.
    const o = parseArg(optionsSchema, options ?? {}, 'options', isValidOptions);
    return new SharedMemory({ name: o.name, create: true, size, track: o.track, reserve: o.reserve, populate: o.populate });
  }

  /**
   * {@link create} without blocking the event loop: the same block (same
   * name rules, size, tracking, reservation and pages mapped in), but the
   * work that grows with the size — `posix_fallocate` and populating the
   * pages, ~0.4 s per GiB here — runs on libuv's thread pool (one of its
   * threads, `UV_THREADPOOL_SIZE`, 4 by default), while the event loop is
   * held for microseconds (bench/core/create-async.bench.ts). For servers
   * that create large blocks while serving requests.
   *
   * Every error is a rejection, with the same `code` as `create` throws
   * (`ENOSPC` from `posix_fallocate` on a full `/dev/shm`, `EEXIST`, bad
   * arguments…), and a failed create leaves no block behind.
   * @param size bytes, a positive integer
   * @param options `name`, `track`, `reserve`, `populate`, as for {@link create}
   * @example
   * ```ts
   * const big = await SharedMemory.createAsync(256 << 20);   // the event loop keeps serving meanwhile
   * big.buf[0] = 1;
   * big.close().unlink();
   * ```
   */
  static async createAsync(size: number, options: CreateOptions = {}): Promise<SharedMemory> {
    checkSize(size, 'size');
    const o = parseArg(optionsSchema, options ?? {}, 'options', isValidOptions);
    const name = o.name == null ? undefined : checkName(o.name, 'options.name');
    const track = o.track ?? true;
    const mapped = await createBlockAsync(name, size, track, o.reserve ?? true, o.populate ?? true);
    return new SharedMemory(new Adopt(mapped, track) as never); // the constructor's internal form
  }

  /**
   * Attaches to an existing block by name (from Python's `shm.name`, a handle's
   * `name`, `SharedMemory#name`…).
   * @throws {TypeError|RangeError} for an invalid name, before any syscall
   * @throws {SyscallError} `ENOENT` if no such block, `EACCES`…
   * @example
   * ```ts
   * const shm = SharedMemory.create(64);
   * const again = SharedMemory.attach(shm.name);
   * again.close(); shm.close().unlink();
   * ```
   */
  static attach(name: string): SharedMemory {
    return new SharedMemory({ name });
  }

  /**
   * The open block that a view (a `Buffer`, typed array or `DataView`) or an
   * ArrayBuffer shows, if it is one of this thread's mappings: how code that
   * is handed a typed array can pass it on by name instead of copying it.
   * @returns the block, or `undefined` (not a mapping, or closed since)
   * @example
   * ```ts
   * const shm = SharedMemory.create(64);
   * const xs = shm.view(Float64Array, { offset: 8, length: 2 });
   * SharedMemory.of(xs) === shm;                   // true: xs.byteOffset is where it starts
   * SharedMemory.of(new Float64Array(2));          // undefined
   * shm.close().unlink();
   * ```
   */
  static of(view: ArrayBufferView | ArrayBufferLike): SharedMemory | undefined {
    const buffer = ArrayBuffer.isView(view) ? view.buffer : view;
    const shm = owners.get(buffer as ArrayBuffer);
    return shm && !shm.closed ? shm : undefined;
  }

  /** The mapping, for a view of it: from then on close() must assume someone may still be using it. */
  #mapping(): ArrayBuffer {
    if (this.#buffer === undefined) throw closedError('SharedMemory', this.name);
    this.#exposed = true;
    return this.#buffer;
  }

  /**
   * The block's bytes: a `Buffer` over exactly {@link size} bytes of the mapping
   * (no copy), the same object every time.
   * @throws `ERR_SHM_CLOSED` after `close()`
   * @throws {RangeError} `ERR_OUT_OF_RANGE` for a block larger than a Buffer can be (4 GiB in Node 20): use {@link view}
   */
  get buf(): Buffer {
    if (this.#buf) return this.#buf;
    const mapping = this.#mapping();
    if (this.size > MAX_VIEW_ELEMENTS) {
      throw outOfRange('buf', `at most ${MAX_VIEW_ELEMENTS} bytes for a Buffer; this block is ${this.size} (use shm.view(Ctor, { offset, length }) for a window, or DataView)`, this.size);
    }
    return (this.#buf = Buffer.from(mapping, 0, this.size));
  }

  /** Whether {@link close} has been called (or the mapping released). */
  get closed(): boolean {
    return this.#buffer === undefined;
  }

  /**
   * A zero-copy typed-array (or `DataView`) view of the block.
   * @param Ctor `Float64Array`, `Int32Array`, `BigInt64Array`, `DataView`, …
   * @param options `offset` in bytes (a multiple of the element size), `length` in elements
   * @throws {RangeError} for a misaligned offset or a length past the end
   * @throws `ERR_SHM_CLOSED` after `close()`
   * @example
   * ```ts
   * const shm = SharedMemory.create(8 * 4);
   * const xs = shm.view(Float64Array);        // 4 doubles
   * const tail = shm.view(Float64Array, { offset: 16, length: 2 });
   * tail[0] = 1.5;                            // xs[2] === 1.5
   * shm.close().unlink();
   * ```
   */
  view<T extends TypedArray>(Ctor: TypedArrayConstructor<T>, options?: ViewOptions): T;
  view(Ctor: DataViewConstructor, options?: ViewOptions): DataView;
  view(Ctor: TypedArrayConstructor | DataViewConstructor, options?: ViewOptions): TypedArray | DataView {
    const o = parseArg(viewOptionsSchema, options, 'options', isValidViewOptions);
    return makeView(this.#mapping(), this.size, Ctor, o?.offset ?? 0, o?.length);
  }

  /**
   * Unmaps the block from this process; it stays in the system for others.
   * Views handed out before (`buf`, typed arrays, tensors' `data`) keep their
   * length but no longer show the block: they read zeros, and what is written
   * through them lands in private memory that nobody sees. The same holds for
   * an operation still running on Node's thread pool with this memory
   * (`zlib`, `crypto.randomFill`, `fs.write`, a socket write…): it never
   * faults and never touches another block. Idempotent.
   * @returns this, so `shm.close().unlink()` reads naturally
   */
  close(): this {
    const buffer = this.#buffer;
    if (buffer !== undefined) {
      this.#buffer = undefined;
      this.#buf = undefined;
      // Never exposed: nothing can be using it, so it is unmapped outright (no placeholder to collect later).
      const r = native.unmap(buffer, this.#exposed, DETACH_KEY);
      if (r < 0) throw syscallError(r, 'mmap', this.name);
    }
    return this;
  }

  /**
   * Removes the block's name from the system (`shm_unlink`); its memory is freed
   * once every process has closed it. Call it once, from one process.
   * @throws {SyscallError} `ENOENT` if the block was already unlinked
   * @returns this
   */
  unlink(): this {
    unlinkBlock(this.name);
    this.#tracked = false;
    return this;
  }

  /**
   * Hands ownership on: this process stops tracking the block, so it is no
   * longer unlinked when this process exits. For blocks whose lifetime another
   * owner now manages (a SharedMemoryManager, a process that will unlink it).
   * @returns this
   */
  untrack(): this {
    if (this.#tracked) {
      unregister(this.name);
      this.#tracked = false;
    }
    return this;
  }

  /** The handle `{ name, size }`; `SharedMemory.attach(handle.name)` revives it anywhere. */
  toJSON(): SharedMemoryHandle {
    return { name: this.name, size: this.size };
  }

  /** Closes the block: `using shm = SharedMemory.create(…)`. */
  [dispose](): void {
    this.close();
  }

  /** Like Python's repr: `SharedMemory('psm_1a2b3c4d', size=10)`. */
  [inspect.custom](): string {
    return `SharedMemory('${this.name}', size=${this.size}${this.closed ? ', closed' : ''})`;
  }
}

/**
 * Removes a block's name by name (`shm_unlink`), without attaching to it — for
 * cleaning up a block whose name is all you have, as `fs.unlinkSync` does for files.
 * @throws {TypeError|RangeError} for an invalid name, before any syscall
 * @throws {SyscallError} `ENOENT` if there is no such block, `EACCES`…
 * @example
 * ```ts
 * import { SharedMemory, unlinkBlock } from '@shmbridge/core';
 * const { name } = SharedMemory.create(16).close();
 * unlinkBlock(name);
 * ```
 */
export function unlinkBlock(name: string): void {
  const checked = checkName(name);
  const r = native.unlink(`/${checked}`);
  // Whoever unlinks, this process's tracker must forget the name, so it never
  // removes a later block that reuses it.
  unregister(checked);
  if (r < 0) throw syscallError(r, 'shm_unlink', checked);
}
