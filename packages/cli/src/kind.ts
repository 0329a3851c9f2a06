/**
 * What a block holds, told from its bytes: a NumPy `.npy` tensor, an Arrow
 * IPC stream, a CPython ShareableList, or raw bytes. Read with pread (see
 * block-file.ts), only as much as each test needs, never changing the block.
 */
import { isNpy } from '@shmbridge/core';
import { isArrowStream } from '@shmbridge/arrow';
import { readShareableList } from '@shmbridge/python-compat';
import type { BlockFile } from './block-file.js';

export type Kind = 'ShareableList' | 'arrow' | 'tensor' | 'raw';

/** The smallest block an empty ShareableList needs: its count and one offset. */
const EMPTY_LIST_BYTES = 16;
/** Enough for the magic and the length word of a stream's first message. */
const HEAD_BYTES = 4096;

/** The first `Schema` message of a stream, read whole however long its metadata is. */
function arrowHead(f: BlockFile, head: Uint8Array): Uint8Array {
  if (head.length < 8) return head;
  const metaLength = new DataView(head.buffer, head.byteOffset, head.byteLength).getInt32(4, true);
  return metaLength > 0 && 8 + metaLength > head.length ? f.read(0, 8 + metaLength) : head;
}

/** Whether the block's bytes decode as a ShareableList (read whole only when its first word could be a count). */
function isShareableList(f: BlockFile, head: Uint8Array): boolean {
  if (head.length < 8) return false;
  const count = new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true);
  // A zero-filled block reads as an empty list; only call it one if it is sized like one.
  if (count === 0n) return f.size <= EMPTY_LIST_BYTES;
  if (count * 25n > BigInt(f.size)) return false; // each item needs ≥ 25 bytes
  const all = f.readAll();
  if (!all) return false;
  try {
    readShareableList(all, f.name);
    return true;
  } catch {
    return false;
  }
}

export function kindOf(f: BlockFile): Kind {
  const head = f.read(0, HEAD_BYTES);
  if (isNpy(head)) return 'tensor';
  if (isArrowStream(arrowHead(f, head))) return 'arrow';
  return isShareableList(f, head) ? 'ShareableList' : 'raw';
}
