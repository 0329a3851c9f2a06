/**
 * JSON handles: what `toJSON()` gives, what travels between processes and
 * languages, and what attaches on arrival.
 *
 *   SharedMemory   { name, size }                      (SPEC)
 *   ShareableList  { name, kind: 'ShareableList' }     (`toJSON()` gives { name })
 *   Tensor         { name, dtype, shape, offset, strides }
 *
 * A handle from outside is untrusted: it is checked with its zod schema
 * before any syscall.
 */
import { z } from 'zod';
import { SharedMemory, Tensor, checkName, parseHandle, type SharedMemoryHandle, type TensorHandle } from '@shmbridge/core';
import { ShareableList, type ShareableListHandle } from '../shareable-list/shareable-list.js';

const sharedMemoryHandle = z.object({ name: z.string().min(1), size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const shareableListHandle = z.object({ name: z.string().min(1), kind: z.literal('ShareableList').optional() });

/** Any handle shmbridge objects produce. */
export type Handle = SharedMemoryHandle | ShareableListHandle | TensorHandle;

/**
 * Attaches to what a handle describes: a Tensor if it has a `dtype`, a
 * SharedMemory if it has a `size` (the block must be at least that large), a
 * ShareableList otherwise.
 * @throws {TypeError} `ERR_INVALID_HANDLE` for a malformed handle, before any syscall
 * @example
 * ```ts
 * const shm = SharedMemory.create(32);
 * const json = JSON.stringify(shm);           // '{"name":"psm_…","size":32}'
 * const again = fromHandle(JSON.parse(json)); // a SharedMemory attached to the same block
 * again.close(); shm.close().unlink();
 * ```
 */
export function fromHandle(handle: unknown): SharedMemory | ShareableList | Tensor {
  if (handle !== null && typeof handle === 'object' && 'dtype' in handle) return Tensor.attach(handle as TensorHandle);
  if (handle !== null && typeof handle === 'object' && 'size' in handle) {
    const h = parseHandle(sharedMemoryHandle, handle, 'SharedMemory handle');
    const shm = SharedMemory.attach(checkName(h.name, 'handle.name'));
    if (shm.size < h.size) {
      shm.close();
      throw Object.assign(new TypeError(`Invalid SharedMemory handle: block '${h.name}' has ${shm.size} bytes, the handle says ${h.size}`), { code: 'ERR_INVALID_HANDLE' });
    }
    return shm;
  }
  const h = parseHandle(shareableListHandle, handle, 'ShareableList handle');
  return ShareableList.attach(checkName(h.name, 'handle.name'));
}
