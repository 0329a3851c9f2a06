/**
 * `Tensor`: an n-d array in a shared memory block, NumPy-compatible. Blocks
 * made by `Tensor.create` are NumPy `.npy` files in memory, so the name alone
 * tells any reader (numpy, shmbridge's Python helper, `Tensor.attach`) what is
 * inside; headerless blocks are described by a handle instead.
 */
import { inspect } from 'node:util';
import { z } from 'zod';
import { corruptError, dtypeMismatch, invalidArgValue, outOfRange } from '../errors.js';
import { checkName } from '../names.js';
import { SharedMemory, type CreateOptions } from '../shared-memory.js';
import { parseArg, parseHandle } from '../validate.js';
import { dtypeOf, type ArrayOfDType, type DType, type DTypeName } from './dtypes.js';
import { formatNpyHeader, isNpy, parseNpyHeader } from './npy-header.js';

/**
 * A tensor's handle: everything a reader needs to view the block, in NumPy's
 * terms (the `__array_interface__` subset): `dtype` is a NumPy type string,
 * `strides` are in bytes, `offset` is where the first element starts.
 */
export interface TensorHandle {
  name: string;
  dtype: string;
  shape: number[];
  offset: number;
  strides: number[];
}

/** A handle as `Tensor.attach` takes it: `offset` defaults to 0, `strides` to C order. */
export type TensorHandleInput = Omit<TensorHandle, 'offset' | 'strides'> & Partial<Pick<TensorHandle, 'offset' | 'strides'>>;

/**
 * A tensor of whichever dtype `D` may be: for one dtype, `Tensor<D>`; for
 * several (a `DTypeName` variable, an attach without `{ dtype }`), the union
 * of one `Tensor` per dtype, so checking `t.dtype` narrows `t.data` to its
 * typed array (`if (t.dtype === 'int64') t.data.set([1n])`). `Tensor<DTypeName>`
 * itself has a `data` of every typed array at once, whose `set` takes nothing.
 */
export type TensorOf<D extends DTypeName = DTypeName> = D extends DTypeName ? Tensor<D> : never;

/** Options of {@link Tensor.attach}. */
export interface TensorAttachOptions<D extends DTypeName = DTypeName> {
  /**
   * The dtype the caller expects (`'int64'`, or a NumPy string such as
   * `'<i8'` at run time): the result is typed `Tensor<D>`, and a block that
   * holds another dtype is refused with `ERR_SHM_DTYPE_MISMATCH`.
   */
  dtype: D;
}

/** Options of {@link Tensor.create}. */
export interface TensorCreateOptions<D extends DTypeName = DTypeName> extends CreateOptions {
  /** `'float32'`, `'int64'`, … (NumPy type strings such as `'<f4'` are accepted too). */
  dtype: D;
  /** Dimensions; `[]` is a scalar. */
  shape: readonly number[];
  /** Memory order: `'C'` (row-major, default) or `'F'` (column-major, NumPy's fortran_order). */
  order?: 'C' | 'F';
}

const MAX_DIMS = 64;

const createSchema = z
  .object({
    dtype: z.string(),
    shape: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).max(MAX_DIMS),
    order: z.enum(['C', 'F']).optional(),
    name: z.string().nullable().optional(),
    track: z.boolean().optional(),
    reserve: z.boolean().optional(),
    populate: z.boolean().optional(),
  })
  .strict();

/** A handle from another process or language: untrusted, checked before any syscall. */
const handleSchema = z.object({
  name: z.string().min(1),
  dtype: z.string().min(1).max(16),
  shape: z.array(z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)).max(MAX_DIMS),
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  strides: z.array(z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER)).max(MAX_DIMS).optional(),
});

const attachOptionsSchema = z.object({ dtype: z.string() }).strict().optional();

const dispose: typeof Symbol.dispose = Symbol.dispose ?? Symbol.for('nodejs.dispose');

function contiguousStrides(shape: readonly number[], itemsize: number, order: 'C' | 'F'): number[] {
  const strides = new Array<number>(shape.length);
  let step = itemsize;
  const dims = order === 'C' ? [...shape.keys()].reverse() : [...shape.keys()];
  for (const d of dims) {
    strides[d] = step;
    step *= Math.max(shape[d]!, 1);
  }
  return strides;
}

function elementCount(shape: readonly number[], what: string): number {
  let n = 1;
  for (const d of shape) n *= d;
  if (!Number.isSafeInteger(n)) throw outOfRange(what, 'a shape whose element count is a safe integer', shape);
  return n;
}

interface Layout {
  dtype: DType;
  shape: number[];
  strides: number[];
  offset: number;
}

/**
 * Checks that every element of the layout lies inside the block and can be
 * viewed through a typed array; returns how many elements the view spans.
 */
function span(layout: Layout, size: number, name: string): number {
  const { dtype, shape, strides, offset } = layout;
  if (strides.length !== shape.length) throw corruptError(name, `${strides.length} strides for ${shape.length} dimensions`);
  if (offset % dtype.itemsize !== 0) throw corruptError(name, `data offset ${offset} is not a multiple of the ${dtype.itemsize}-byte item size`);
  if (elementCount(shape, 'shape') === 0) {
    if (offset > size) throw corruptError(name, `data offset ${offset} is past the end of the block (${size} bytes)`);
    return 0;
  }
  let last = offset;
  for (let d = 0; d < shape.length; d++) {
    const s = strides[d]!;
    if (s < 0 || s % dtype.itemsize !== 0) {
      throw corruptError(name, `stride ${s} of dimension ${d} is not a non-negative multiple of the ${dtype.itemsize}-byte item size`);
    }
    last += (shape[d]! - 1) * s;
  }
  const end = last + dtype.itemsize;
  if (!Number.isSafeInteger(end) || end > size) {
    throw corruptError(name, `the array (shape [${shape}], strides [${strides}], offset ${offset}) needs ${end} bytes but the block has ${size}`);
  }
  return (end - offset) / dtype.itemsize;
}

/** A validated create: the block to make and the header to write first. */
interface CreatePlan {
  dtype: DType;
  shape: number[];
  order: 'C' | 'F';
  header: Uint8Array;
  size: number;
  block: CreateOptions;
}

function planCreate(options: TensorCreateOptions): CreatePlan {
  // Validate arguments
  const { dtype: spec, shape, order = 'C', ...block } = parseArg(createSchema, options, 'options');
  const dtype = dtypeOf(spec, 'options.dtype');
  const nbytes = elementCount(shape, 'options.shape') * dtype.itemsize;
  const header = formatNpyHeader(dtype.descr, order === 'F', shape);
  return { dtype, shape, order, header, size: header.length + nbytes, block: { ...block, name: block.name ?? undefined } };
}

/**
 * An n-d array in a shared memory block, zero-copy on both sides.
 *
 * @example
 * ```ts
 * import { Tensor } from '@shmbridge/core';
 * const t = Tensor.create({ dtype: 'float32', shape: [2, 3] });
 * t.data.set([1, 2, 3, 4, 5, 6]);
 * // Python: shmbridge.ndarray(t.shm.name) -> array([[1., 2., 3.], [4., 5., 6.]], dtype=float32)
 * const again = Tensor.attach(t.shm.name);
 * again.data[5];            // 6
 * again.close();
 * t.close(); t.shm.unlink();
 * ```
 */
export class Tensor<D extends DTypeName = DTypeName> {
  /** The block behind the tensor. */
  readonly shm: SharedMemory;
  /** NumPy dtype name: `'float32'`, `'int64'`, … */
  readonly dtype: D;
  /** NumPy type string: `'<f4'`, `'|b1'`, … */
  readonly descr: string;
  readonly shape: readonly number[];
  /** Byte strides, NumPy's convention. */
  readonly strides: readonly number[];
  /** Byte offset of the first element in the block. */
  readonly offset: number;
  readonly #itemsize: number;
  readonly #span: number;
  readonly #array: DType['array'];

  private constructor(shm: SharedMemory, layout: Layout) {
    this.shm = shm;
    this.dtype = layout.dtype.name as D;
    this.descr = layout.dtype.descr;
    this.shape = Object.freeze([...layout.shape]);
    this.strides = Object.freeze([...layout.strides]);
    this.offset = layout.offset;
    this.#itemsize = layout.dtype.itemsize;
    this.#array = layout.dtype.array;
    try {
      this.#span = span(layout, shm.size, shm.name);
    } catch (err) {
      shm.close();
      throw err;
    }
  }

  /**
   * Creates a zeroed tensor in a new block, written as a NumPy `.npy` array
   * (header, then data on a 64-byte boundary), so `Tensor.attach(name)` and
   * Python's `shmbridge.ndarray(name)` need nothing but the name. Typed by
   * its dtype: `Tensor.create({ dtype: 'int64', … }).data` is a `BigInt64Array`.
   * @throws {TypeError|RangeError} for an unknown or big-endian dtype, a bad shape or option
   * @throws {SyscallError} from creating the block
   */
  static create<D extends DTypeName>(options: TensorCreateOptions<D>): TensorOf<D> {
    const plan = planCreate(options);
    return Tensor.#write<D>(SharedMemory.create(plan.size, plan.block), plan);
  }

  /**
   * {@link create} without blocking the event loop: the block is made with
   * `SharedMemory.createAsync` (reserving and mapping in its pages on the
   * thread pool), then the header is written. Every error is a rejection.
   * @example
   * ```ts
   * const t = await Tensor.createAsync({ dtype: 'float32', shape: [4096, 4096] });   // 64 MiB
   * t.data[0] = 1;
   * t.close(); t.shm.unlink();
   * ```
   */
  static async createAsync<D extends DTypeName>(options: TensorCreateOptions<D>): Promise<TensorOf<D>> {
    const plan = planCreate(options);
    return Tensor.#write<D>(await SharedMemory.createAsync(plan.size, plan.block), plan);
  }

  static #write<D extends DTypeName>(shm: SharedMemory, plan: CreatePlan): TensorOf<D> {
    shm.buf.set(plan.header, 0);
    const { dtype, shape, order, header } = plan;
    return new Tensor<D>(shm, { dtype, shape, strides: contiguousStrides(shape, dtype.itemsize, order), offset: header.length }) as TensorOf<D>;
  }

  /**
   * Attaches to a tensor: by name for `.npy` blocks (what `Tensor.create` and
   * Python's `shmbridge.share` write), or by handle for any other layout, e.g.
   * `{ name, dtype: '<i8', shape: [6], offset: 0, strides: [8] }` for the NumPy
   * example of Python's docs. Handles from other processes are validated before
   * any syscall.
   *
   * Typing: with `{ dtype: 'int64' }` the result is a `Tensor<'int64'>` (and a
   * block of another dtype is refused); without, it is a {@link TensorOf} union
   * that `t.dtype` narrows.
   * @throws {TypeError} `ERR_INVALID_HANDLE` for a malformed handle; `ERR_INVALID_ARG_VALUE` for an unknown `options.dtype`
   * @throws {TypeError} `ERR_SHM_DTYPE_MISMATCH` if the block holds another dtype than `options.dtype`
   * @throws {SyscallError} `ENOENT`… from attaching
   * @throws `ERR_SHM_CORRUPT` if the header is malformed or the array does not fit the block
   * @example
   * ```ts
   * import { Tensor } from '@shmbridge/core';
   * const made = Tensor.create({ dtype: 'int64', shape: [3] });
   * const t = Tensor.attach(made.shm.name, { dtype: 'int64' });   // Tensor<'int64'>
   * t.data.set([1n, 2n, 3n]);                                       // BigInt64Array
   * const any = Tensor.attach(made.shm.name);                      // a union: narrow by dtype
   * if (any.dtype === 'int64') any.data[0];                         // 1n
   * any.close(); t.close(); made.close(); made.shm.unlink();
   * ```
   */
  static attach<D extends DTypeName>(nameOrHandle: string | TensorHandleInput, options: TensorAttachOptions<D>): TensorOf<D>;
  static attach(nameOrHandle: string | TensorHandleInput, options?: TensorAttachOptions): TensorOf;
  static attach(nameOrHandle: string | TensorHandleInput, options?: TensorAttachOptions): TensorOf {
    // Validate arguments
    const o = parseArg(attachOptionsSchema, options, 'options');
    const expected = o === undefined ? undefined : dtypeOf(o.dtype, 'options.dtype');
    const tensor = Tensor.#attach(nameOrHandle);
    if (expected !== undefined && expected.name !== tensor.dtype) {
      tensor.close();
      throw dtypeMismatch(tensor.shm.name, expected.name, `${tensor.dtype} ('${tensor.descr}')`);
    }
    return tensor as TensorOf;
  }

  static #attach(nameOrHandle: string | TensorHandleInput): Tensor {
    if (typeof nameOrHandle === 'string') {
      const shm = SharedMemory.attach(checkName(nameOrHandle));
      try {
        const bytes = shm.view(Uint8Array);
        if (!isNpy(bytes)) throw corruptError(shm.name, 'bad .npy header: no \\x93NUMPY magic (a headerless block attaches with a handle: Tensor.attach({ name, dtype, shape, offset, strides }))');
        const header = parseNpyHeader(bytes, shm.name);
        // The header came from the block, not from the caller: a dtype we cannot read is a corrupt block.
        let dtype: DType;
        try {
          dtype = dtypeOf(header.descr, 'header descr');
        } catch (err) {
          throw corruptError(shm.name, `bad .npy header: descr ${JSON.stringify(header.descr)} ${(err as Error).message.replace(/^The "header descr" argument /, '').replace(/\. Received .*$/, '')}`);
        }
        if (!Number.isSafeInteger(header.shape.reduce((n, d) => n * d, 1))) {
          throw corruptError(shm.name, `bad .npy header: shape (${header.shape.join(', ')}) has more elements than can be addressed`);
        }
        const strides = contiguousStrides(header.shape, dtype.itemsize, header.fortranOrder ? 'F' : 'C');
        return new Tensor(shm, { dtype, shape: header.shape, strides, offset: header.dataOffset });
      } catch (err) {
        shm.close();
        throw err;
      }
    }
    const h = parseHandle(handleSchema, nameOrHandle, 'tensor handle');
    const name = checkName(h.name, 'handle.name');
    const dtype = dtypeOf(h.dtype, 'handle.dtype');
    const strides = h.strides ?? contiguousStrides(h.shape, dtype.itemsize, 'C');
    if (strides.length !== h.shape.length) throw invalidArgValue('handle.strides', `must have one stride per dimension (${h.shape.length})`, strides);
    return new Tensor(SharedMemory.attach(name), { dtype, shape: h.shape, strides, offset: h.offset });
  }

  /** Number of elements. */
  get size(): number {
    return elementCount(this.shape, 'shape');
  }

  /**
   * The elements, zero-copy: a typed array over the block from the first
   * element to the last (bool: Uint8Array of 0/1; int64: BigInt64Array). For C-
   * or Fortran-contiguous tensors that is exactly the array in memory order;
   * for other strides, element (i, j, …) is `data[t.indexOf(i, j, …)]`.
   * @throws `ERR_SHM_CLOSED` after close
   */
  get data(): ArrayOfDType[D] {
    return this.shm.view(this.#array, { offset: this.offset, length: this.#span }) as ArrayOfDType[D];
  }

  /** Position in {@link data} of the element at these indices. */
  indexOf(...indices: number[]): number {
    if (indices.length !== this.shape.length) throw outOfRange('indices.length', `${this.shape.length}`, indices.length);
    let at = 0;
    indices.forEach((ix, d) => {
      if (!Number.isInteger(ix) || ix < 0 || ix >= this.shape[d]!) throw outOfRange(`indices[${d}]`, `an integer from 0 to ${this.shape[d]! - 1}`, ix);
      at += ix * this.strides[d]!;
    });
    return at / this.#itemsize;
  }

  /** `{ name, dtype, shape, offset, strides }`: attach with `Tensor.attach(handle)` here or `shmbridge.ndarray(handle)` in Python. */
  get handle(): TensorHandle {
    return { name: this.shm.name, dtype: this.descr, shape: [...this.shape], offset: this.offset, strides: [...this.strides] };
  }

  toJSON(): TensorHandle {
    return this.handle;
  }

  /** Closes the block (views of `data` read zeros from then on); `t.shm.unlink()` removes it. Idempotent. */
  close(): this {
    this.shm.close();
    return this;
  }

  [dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    return `Tensor(${this.dtype}, shape=[${this.shape.join(', ')}], name='${this.shm.name}'${this.shm.closed ? ', closed' : ''})`;
  }
}
