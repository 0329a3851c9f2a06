/**
 * msgpackr extensions: a SharedMemory, ShareableList or Tensor inside a
 * msgpack message travels as its handle and arrives attached (the handle is
 * validated first). msgpackr keeps extensions in one global registry, so this
 * is explicit: call {@link registerMsgpackExtensions} once, where you set up
 * msgpackr.
 */
import { addExtension } from 'msgpackr';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { ShareableList } from '../shareable-list/shareable-list.js';
import { fromHandle } from './json.js';

/** msgpack extension type codes (application range 0–127): 'S', 'L', 'T'. */
export const MSGPACK_TYPES = { SharedMemory: 0x53, ShareableList: 0x4c, Tensor: 0x54 } as const;

let registered = false;

/**
 * Teaches msgpackr (every Packr/Unpackr, and `pack`/`unpack`) to send these
 * objects as handles and attach them on decode. Idempotent.
 * @example
 * ```ts
 * import { pack, unpack } from 'msgpackr';
 * registerMsgpackExtensions();
 * const shm = SharedMemory.create(16);
 * const msg = unpack(pack({ job: 1, input: shm })); // msg.input: a SharedMemory attached to shm's block
 * msg.input.close(); shm.close().unlink();
 * ```
 */
export function registerMsgpackExtensions(): void {
  if (registered) return;
  registered = true;
  addExtension({ Class: SharedMemory, type: MSGPACK_TYPES.SharedMemory, write: (shm: SharedMemory) => shm.toJSON(), read: (h: unknown) => fromHandle(h) });
  addExtension({ Class: ShareableList, type: MSGPACK_TYPES.ShareableList, write: (sl: ShareableList) => ({ ...sl.toJSON(), kind: 'ShareableList' }), read: (h: unknown) => fromHandle({ ...(h as object), kind: 'ShareableList' }) });
  addExtension({ Class: Tensor, type: MSGPACK_TYPES.Tensor, write: (t: Tensor) => t.handle, read: (h: unknown) => fromHandle(h) });
}
