/**
 * Zero-copy typed-array views over a mapping. Views are always made as
 * `new Ctor(buffer, byteOffset, length)` over the block's one ArrayBuffer,
 * never copied, so they show the block's memory for as long as it is mapped
 * (after `close()` they read zeros; see native/addon.cc, Unmap).
 */
import { constants as bufferConstants } from 'node:buffer';
import { outOfRange } from './errors.js';

/** Every typed array a block can be viewed as. */
export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A typed-array constructor (`Float64Array`, `BigInt64Array`, …). */
export interface TypedArrayConstructor<T extends TypedArray = TypedArray> {
  new (buffer: ArrayBuffer, byteOffset?: number, length?: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** Where a view starts and how many elements (bytes, for `DataView`) it holds. */
export interface ViewOptions {
  /** Byte offset into the block; a multiple of the element size. Default 0. */
  offset?: number;
  /** Number of elements (bytes for `DataView`). Default: as many as fit. */
  length?: number;
}

/**
 * A view of `Ctor` over `byteLength` bytes of `buffer`, checked first so a
 * bad offset or length says which and why.
 * @throws {RangeError} `ERR_OUT_OF_RANGE` for a negative, misaligned or
 *   out-of-bounds offset, or a length that runs past the end.
 */
export function makeView<T extends TypedArray | DataView>(
  buffer: ArrayBuffer,
  byteLength: number,
  Ctor: TypedArrayConstructor | DataViewConstructor,
  offset: number,
  length: number | undefined,
): T {
  const size = 'BYTES_PER_ELEMENT' in Ctor ? Ctor.BYTES_PER_ELEMENT : 1;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > byteLength) {
    throw outOfRange('options.offset', `an integer from 0 to ${byteLength}`, offset);
  }
  if (offset % size !== 0) {
    throw outOfRange('options.offset', `a multiple of ${size} (${Ctor.name} elements are ${size} bytes)`, offset);
  }
  const fits = Math.floor((byteLength - offset) / size);
  const n = length ?? fits;
  if (!Number.isSafeInteger(n) || n < 0 || n > fits) {
    throw outOfRange('options.length', `an integer from 0 to ${fits} (elements that fit after offset ${offset})`, length);
  }
  if (n > MAX_VIEW_ELEMENTS && Ctor !== DataView) {
    throw outOfRange('options.length', `at most ${MAX_VIEW_ELEMENTS} elements, the most a ${Ctor.name} holds here (view a window: { offset, length })`, n);
  }
  return new (Ctor as new (b: ArrayBuffer, o: number, l: number) => T)(buffer, offset, n);
}

/**
 * The most elements a typed array (and so a `Buffer`) can hold in this
 * runtime: 2^32 in Node 20 (`buffer.constants.MAX_LENGTH`). Blocks can be
 * larger; past it V8 throws a RangeError with no `code`, so this is checked.
 */
export const MAX_VIEW_ELEMENTS = bufferConstants.MAX_LENGTH;
