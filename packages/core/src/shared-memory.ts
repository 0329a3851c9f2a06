/**
 * `SharedMemory`: CPython's `multiprocessing.shared_memory.SharedMemory` for
 * Node. Same names, same flags (`O_CREAT | O_EXCL | O_RDWR`, mode 0600), same
 * `name`/`size`/`buf`/`close()`/`unlink()`, so either language attaches to
 * what the other created.
 */
import { constants } from 'node:os';
import { inspect } from 'node:util';
import { markAsUntransferable } from 'node:worker_threads';
import { closedError, invalidArgType, outOfRange, syscallError } from './errors.js';
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

/** Held only here, so nothing can detach a mapping (see native/addon.cc, Map). */
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

function createBlock(requested: string | undefined, size: number, track: boolean, reserve: boolean, populate: boolean): Mapped {
  if (track) ensureTracker();
  const { fd, name } = openNew(requested);
  let registered = false;
  try {
    const t = native.truncate(fd, size);
    if (t < 0) throw syscallError(t, 'ftruncate', name);
    // The size is what fstat reports, as in CPython (macOS rounds it up to a
    // page); Linux keeps it exact, so an untracked create skips the syscall.
    // The tracker needs the inode, to never unlink a later block of that name.
    let actual = size;
    if (track || process.platform !== 'linux') {
      const [statSize, , , , ino] = statOrThrow(fd, name);
      actual = statSize;
      if (track) {
        register(name, ino);
        registered = true;
      }
    }
    if (reserve) {
      const r = native.reserve(fd, actual);
      // ENOTSUP/EOPNOTSUPP: the platform or filesystem cannot reserve (macOS).
      if (r < 0 && r !== -ENOTSUP && r !== -EOPNOTSUPP) throw syscallError(r, 'posix_fallocate', name);
    }
    return { name, size: actual, buffer: map(fd, actual, name, populate) };
  } catch (err) {
    // As shared_memory.py does: a block we failed to set up is unlinked.
    native.unlink(`/${name}`);
    if (registered) unregister(name);
    throw err;
  } finally {
    native.close(fd);
  }
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
  #buf: Buffer | undefined;
  #tracked: boolean;

  /**
   * Creates a block or attaches to one, as Python's
   * `SharedMemory(name=None, create=False, size=0, *, track=True)`.
   * @throws {TypeError|RangeError} for bad options, before any syscall
   *   (`size` must be a positive integer when creating; `name` is required when attaching).
   * @throws {SyscallError} `EEXIST` creating a name that exists, `ENOENT` attaching
   *   to one that does not, `EACCES`, `ENOSPC`, `EMFILE`…
   * @example
   * ```ts
   * const a = new SharedMemory({ create: true, size: 10 });
   * const b = new SharedMemory({ name: a.name });
   * b.close(); a.close(); a.unlink();
   * ```
   */
  constructor(options: SharedMemoryOptions) {
    // Validate arguments
    const o = parseArg(optionsSchema, options, 'options', isValidOptions);
    const name = o.name == null ? undefined : checkName(o.name, 'options.name');
    // Interpret options, with CPython's rules and messages
    let mapped: Mapped;
    if (o.create) {
      if (!o.size) throw outOfRange('options.size', 'a positive integer when creating', o.size ?? 0);
      mapped = createBlock(name, o.size, o.track ?? true, o.reserve ?? true, o.populate ?? true);
    } else {
      if (name === undefined) throw invalidArgType('options.name', 'a string when attaching (create is false)', o.name);
      mapped = attachBlock(name, o.populate ?? false);
    }
    this.name = mapped.name;
    this.size = mapped.size;
    this.#buffer = mapped.buffer;
    this.#tracked = Boolean(o.create && (o.track ?? true));
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
    // Not `{ ...options, create: true, size }`: V8 spreads an options object
    // in ~2 µs here (a literal: ~16 ns), which was a tenth of a whole create.
    const o = parseArg(optionsSchema, options ?? {}, 'options', isValidOptions);
    return new SharedMemory({ name: o.name, create: true, size, track: o.track, reserve: o.reserve, populate: o.populate });
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

  #mapping(): ArrayBuffer {
    if (this.#buffer === undefined) throw closedError('SharedMemory', this.name);
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
      const r = native.unmap(buffer);
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
