/**
 * Type tests: not run by Jest but type-checked by `pnpm test`'s first step
 * (`tsc -p tsconfig.json`, strict), which fails if a line marked
 * `@ts-expect-error` compiles or if any other line does not. Nothing here is
 * executed; the functions only give the expressions a scope.
 */
import { SharedMemory, Tensor, type TensorOf } from '@shmbridge/core';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_: T): void {}

export function tensorAttachWithDtype(name: string): void {
  const t = Tensor.attach(name, { dtype: 'int64' });
  assertType<Equal<typeof t, Tensor<'int64'>>>(true);
  assertType<Equal<typeof t.data, BigInt64Array>>(true);
  t.data.set([1n, 2n]);
  // @ts-expect-error an int64 tensor takes bigints
  t.data.set([1]);
  const f = Tensor.attach({ name, dtype: '<f4', shape: [2], offset: 0, strides: [4] }, { dtype: 'float32' });
  f.data.set([1.5]);
  // @ts-expect-error options.dtype is a dtype name
  Tensor.attach(name, { dtype: 'complex64' });
  // @ts-expect-error options takes only dtype
  Tensor.attach(name, { dtype: 'int8', shape: [1] });
}

export function tensorAttachWithoutDtype(name: string): void {
  const t = Tensor.attach(name);
  assertType<Equal<typeof t, TensorOf>>(true);
  // @ts-expect-error which typed array it is depends on the block: narrow by dtype first
  t.data.set([1n]);
  if (t.dtype === 'int64') t.data.set([1n]);
  else if (t.dtype === 'float32' || t.dtype === 'float64') t.data.set([0.5]);
  else if (t.dtype === 'bool') assertType<Equal<typeof t.data, Uint8Array>>(true);
  // Every member is a Tensor: what does not depend on the dtype needs no narrowing.
  const shape: readonly number[] = t.shape;
  const closed: TensorOf = t.close();
  void shape;
  void closed;
}

export function tensorCreate(dtype: 'int32' | 'uint8'): void {
  const one = Tensor.create({ dtype: 'float64', shape: [2] });
  assertType<Equal<typeof one, Tensor<'float64'>>>(true);
  one.data.set([1, 2]);
  const either = Tensor.create({ dtype, shape: [2] });
  assertType<Equal<typeof either, Tensor<'int32'> | Tensor<'uint8'>>>(true);
  either.data.set([1, 2]); // both take numbers
}

export function sharedMemoryForms(name: string): void {
  new SharedMemory({ create: true, size: 10 });
  new SharedMemory(name);
  new SharedMemory(name, { create: true, size: 10, track: false });
  new SharedMemory(null, true, 10);
  new SharedMemory(null, true, 10, { track: false });
  new SharedMemory(name, false);
  // @ts-expect-error the name goes first or in the options, not both
  new SharedMemory(name, { name });
  // @ts-expect-error after (name, create, size) only track/reserve/populate
  new SharedMemory(null, true, 10, { size: 3 });
  // @ts-expect-error a name is a string
  new SharedMemory(42);
}
