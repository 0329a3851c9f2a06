/**
 * NumPy dtypes a tensor block may hold, as NumPy names them in `.npy`
 * headers and `__array_interface__` (`descr`: byte order, kind, item size),
 * and the typed array each is viewed through.
 */
import { invalidArgValue } from '../errors.js';
import type { TypedArray, TypedArrayConstructor } from '../views.js';

/** The dtype names shmbridge accepts (NumPy's). */
export type DTypeName =
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64'
  | 'float16' | 'float32' | 'float64' | 'bool';

/** The typed array each dtype is read through. */
export interface ArrayOfDType {
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  float16: TypedArray;
  float32: Float32Array;
  float64: Float64Array;
  bool: Uint8Array;
}

export interface DType {
  name: DTypeName;
  /** Little-endian NumPy type string, as numpy writes it: `<f4`, `|u1`, `|b1`… */
  descr: string;
  itemsize: number;
  /** The typed array elements are read through (bool: Uint8Array of 0/1). */
  array: TypedArrayConstructor;
}

const Float16 = (globalThis as { Float16Array?: TypedArrayConstructor }).Float16Array;

const table: Array<[DTypeName, string, number, TypedArrayConstructor | undefined]> = [
  ['int8', '|i1', 1, Int8Array],
  ['uint8', '|u1', 1, Uint8Array],
  ['bool', '|b1', 1, Uint8Array],
  ['int16', '<i2', 2, Int16Array],
  ['uint16', '<u2', 2, Uint16Array],
  ['float16', '<f2', 2, Float16],
  ['int32', '<i4', 4, Int32Array],
  ['uint32', '<u4', 4, Uint32Array],
  ['float32', '<f4', 4, Float32Array],
  ['int64', '<i8', 8, BigInt64Array],
  ['uint64', '<u8', 8, BigUint64Array],
  ['float64', '<f8', 8, Float64Array],
];

const byName = new Map(table.map(([name, descr, itemsize, array]) => [name, { name, descr, itemsize, array }]));
const byDescr = new Map(table.map(([name, descr, itemsize, array]) => [descr.slice(1), { name, descr, itemsize, array }]));

/**
 * Looks up a dtype by name (`'float32'`) or NumPy type string (`'<f4'`, `'=f4'`,
 * `'|u1'`, `'f4'`).
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for big-endian (`'>f4'`) or
 *   unknown dtypes, and for float16 where the runtime has no Float16Array
 */
export function dtypeOf(spec: string, argName = 'dtype'): DType & { array: TypedArrayConstructor } {
  let found = byName.get(spec as DTypeName);
  if (!found) {
    const order = spec[0];
    if (order === '>' || order === '!') {
      throw invalidArgValue(argName, 'is big-endian; shmbridge reads little-endian data only (convert with arr.astype(arr.dtype.newbyteorder("<")))', spec);
    }
    const key = order === '<' || order === '=' || order === '|' ? spec.slice(1) : spec;
    found = byDescr.get(key);
    // '<i1' / '|i2' are unusual spellings numpy also accepts; byte order must not matter for them only.
    if (found && order === '|' && found.itemsize > 1) found = undefined;
  }
  if (!found) {
    throw invalidArgValue(argName, `is not a supported dtype (one of ${[...byName.keys()].join(', ')}, or their NumPy type strings such as '<f4')`, spec);
  }
  if (!found.array) throw invalidArgValue(argName, `needs Float16Array, which this runtime (Node ${process.version}) does not have`, spec);
  return found as DType & { array: TypedArrayConstructor };
}
