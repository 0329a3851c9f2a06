/**
 * A ShareableList read from bytes rather than from a block: for tools that
 * must not map a block they only inspect (`shmbridge show` reads a sparse
 * block with pread, since touching its pages through a mapping on a full
 * /dev/shm raises SIGBUS). The same checks as attaching: a corrupt list
 * throws `ERR_SHM_CORRUPT`, never reads outside `bytes`.
 */
import type { PyValue } from '../py.js';
import { formatString, readValue } from './codec.js';
import { readLayout, type LayoutKind } from './layout.js';

/** What {@link readShareableList} finds. */
export interface ShareableListContents {
  layout: LayoutKind;
  /** Python's `.format`. */
  format: string;
  items: PyValue[];
}

/**
 * Decodes the list held in `bytes` (a whole block's contents).
 * @param name the block's name, for error messages
 * @throws `ERR_SHM_CORRUPT` if `bytes` do not hold a valid list
 * @example
 * ```ts
 * import { ShareableList, readShareableList } from '@shmbridge/python-compat';
 * const sl = new ShareableList(['a', 1]);
 * readShareableList(Buffer.from(sl.shm.buf), sl.shm.name).items;   // ['a', 1]
 * sl.shm.close().unlink();
 * ```
 */
export function readShareableList(bytes: Uint8Array, name: string, options: { int64?: 'number' | 'bigint' } = {}): ShareableListContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const layout = readLayout(view, name);
  const codec = { bigintInts: options.int64 === 'bigint', nulSentinel: false };
  const items: PyValue[] = [];
  for (let i = 0; i < layout.length; i++) items.push(readValue(view, bytes, layout, i, name, codec));
  return { layout: layout.kind, format: formatString(view, bytes, layout, name), items };
}
