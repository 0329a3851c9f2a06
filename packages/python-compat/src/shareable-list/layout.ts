/**
 * CPython's ShareableList block layout (Lib/multiprocessing/shared_memory.py),
 * kept as CPython writes it down, with its offset helpers under their names.
 * Pure: no I/O, no values.
 *
 * CPython ≥ 3.9 — the shared memory area is organized as follows:
 * - 8 bytes: number of items (N) as a 64-bit integer
 * - (N + 1) * 8 bytes: offsets of each element from the start of the
 *                      data area
 * - K bytes: the data area storing item values (with encoding and size
 *            depending on their respective types)
 * - N * 8 bytes: `struct` format string for each element
 * - N bytes: index into _back_transforms_mapping for each element
 *            (for reconstructing the corresponding Python value)
 *
 * CPython 3.8 stores N per-item sizes (`_allocated_bytes`) where later
 * versions store N + 1 offsets, so its data area starts 8 bytes earlier, and
 * an empty list is a lone 8-byte count. The second header word tells them
 * apart: the first offset is always 0, the first size never is (≥ 8).
 *
 * All words are native `struct` (little-endian here, 8-aligned), so the
 * block is exactly 8(N + 2) + K + 9N bytes (3.8: 8(N + 1) + K + 9N).
 */
import { corruptError } from '@shmbridge/core';

/** `cpython-3.9`: offsets (CPython 3.9–3.13); `cpython-3.8`: per-item sizes. */
export type LayoutKind = 'cpython-3.9' | 'cpython-3.8';

/** `_alignment`: every slot is a multiple of 8 bytes. */
export const ALIGNMENT = 8;

/** Where everything is in one list's block. Offsets never change after creation (CPython never moves a slot). */
export interface Layout {
  readonly kind: LayoutKind;
  /** N */
  readonly length: number;
  /** `_allocated_offsets`: N + 1 slot offsets relative to the data area; slot i is [offsets[i], offsets[i+1]). */
  readonly offsets: Float64Array;
  /** `_offset_data_start` */
  readonly dataStart: number;
  /** `_offset_packing_formats` */
  readonly formatsStart: number;
  /** `_offset_back_transform_codes` */
  readonly codesStart: number;
  /** Bytes the layout occupies; the block is at least this large. */
  readonly size: number;
}

/** `_offset_data_start`: the count and the N + 1 offsets (3.8: N sizes). */
export function offsetDataStart(length: number, kind: LayoutKind): number {
  return kind === 'cpython-3.9' ? (length + 2) * 8 : (length + 1) * 8;
}

/** The layout of N slots with the given allocations (bytes per slot). */
export function layoutFor(allocations: ArrayLike<number>, kind: LayoutKind): Layout {
  const length = allocations.length;
  const offsets = new Float64Array(length + 1);
  for (let i = 0; i < length; i++) offsets[i + 1] = offsets[i]! + allocations[i]!;
  return finish(kind, length, offsets);
}

function finish(kind: LayoutKind, length: number, offsets: Float64Array): Layout {
  const dataStart = offsetDataStart(length, kind);
  const formatsStart = dataStart + offsets[length]!;
  const codesStart = formatsStart + length * 8;
  return { kind, length, offsets, dataStart, formatsStart, codesStart, size: codesStart + length };
}

/** Writes a non-negative safe integer as a little-endian int64 (no BigInt: this runs per item). */
function setWord(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 4294967296, true);
  view.setUint32(at + 4, Math.floor(value / 4294967296), true);
}

/** Writes the count and the offsets (3.8: sizes) of a fresh block. */
export function writeHeader(view: DataView, layout: Layout): void {
  const { length, offsets } = layout;
  setWord(view, 0, length);
  if (layout.kind === 'cpython-3.9') {
    for (let i = 0; i <= length; i++) setWord(view, 8 + i * 8, offsets[i]!);
  } else {
    for (let i = 0; i < length; i++) setWord(view, 8 + i * 8, offsets[i + 1]! - offsets[i]!);
  }
}

/**
 * Reads an int64 word as a number when it is in [0, 2^53), else -1: every
 * legitimate count, offset and size is, and anything else is refused anyway.
 */
function getWord(view: DataView, at: number): number {
  const hi = view.getUint32(at + 4, true);
  return hi < 0x200000 ? hi * 4294967296 + view.getUint32(at, true) : -1;
}

/**
 * Reads and checks the header of a block another process wrote. Untrusted:
 * the count, every offset (or size) and the areas they imply must fit the
 * block, or this throws `ERR_SHM_CORRUPT` naming the block and the problem.
 */
export function readLayout(view: DataView, name: string): Layout {
  const size = view.byteLength;
  const fail = (what: string): never => {
    throw corruptError(name, `not a ShareableList: ${what}`);
  };
  if (size < 8) fail(`${size} bytes is smaller than the 8-byte item count`);
  const length = getWord(view, 0);
  // Each item needs at least an 8-byte offset, an 8-byte slot, an 8-byte format and a code byte.
  if (length < 0 || length > Math.floor(size / 25)) fail(`item count ${view.getBigInt64(0, true)} does not fit in ${size} bytes`);
  // CPython 3.8's empty list is the count alone; later versions add offsets[0] = 0.
  const kind: LayoutKind = size < 16 || (length > 0 && getWord(view, 8) !== 0) ? 'cpython-3.8' : 'cpython-3.9';
  const offsets = new Float64Array(length + 1);
  const limit = size - offsetDataStart(length, kind) - 9 * length; // most the data area can hold
  const v39 = kind === 'cpython-3.9';
  for (let i = 0; i < length; i++) {
    const word = getWord(view, 8 + (v39 ? i + 1 : i) * 8);
    const end = word < 0 ? -1 : v39 ? word : offsets[i]! + word;
    if (end - offsets[i]! < ALIGNMENT || end > limit) {
      fail(`slot ${i} [${offsets[i]}, ${view.getBigInt64(8 + (v39 ? i + 1 : i) * 8, true)}${v39 ? '' : ' bytes'}) is smaller than 8 bytes or runs past the data area (${limit} bytes)`);
    }
    offsets[i + 1] = end;
  }
  return finish(kind, length, offsets);
}
