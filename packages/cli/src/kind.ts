/**
 * What a block holds, told from its bytes: a NumPy `.npy` tensor, an Arrow
 * IPC stream, a CPython ShareableList, or raw bytes. Attaching maps the block
 * without touching it; only the first bytes (and for a list, its header) are read.
 */
import { SharedMemory, isNpy } from '@shmbridge/core';
import { isArrowStream } from '@shmbridge/arrow';
import { ShareableList } from '@shmbridge/python-compat';

export type Kind = 'ShareableList' | 'arrow' | 'tensor' | 'raw';

/** The smallest block an empty ShareableList needs: its count and one offset. */
const EMPTY_LIST_BYTES = 16;

export function kindOf(name: string): Kind {
  const shm = SharedMemory.attach(name);
  try {
    const bytes = shm.view(Uint8Array);
    if (isNpy(bytes)) return 'tensor';
    if (isArrowStream(bytes)) return 'arrow';
  } finally {
    shm.close();
  }
  try {
    const sl = ShareableList.attach(name);
    // A zero-filled block reads as an empty list; only call it one if it is sized like one.
    const list = sl.length > 0 || sl.shm.size <= EMPTY_LIST_BYTES;
    sl.close();
    return list ? 'ShareableList' : 'raw';
  } catch {
    return 'raw';
  }
}
