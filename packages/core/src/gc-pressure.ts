/**
 * When to ask V8 for a garbage collection on behalf of dropped mappings, and
 * when to refuse a new mapping before the process runs out of them.
 *
 * Mappings are deliberately not charged to V8's external-memory budget (a
 * charge forces a full GC per wrap of 64 MiB or more; see native/addon.cc), so
 * V8 does not know that a `SharedMemory` dropped without `close()` may hold
 * gigabytes, or that thousands of small ones hold thousands of kernel
 * mappings. This bounds both the way V8 bounds its own heap: `base` is the
 * lowest total seen since the last request (collections bring it down); once
 * the total grows past it by max(floor, base), V8 is asked to collect. Code
 * that closes what it maps and lets the event loop run never pays for a GC.
 *
 * Node runs the unmapping finalizers from the event loop, so a loop that never
 * yields is only cleaned up once it does. Such a loop would otherwise reach
 * the kernel's per-process limit (`vm.max_map_count`, 65,530 by default),
 * after which V8 itself can no longer allocate and aborts the process; a new
 * mapping is refused with `ENOMEM` while the process still has room.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { syscallError, type SyscallError } from './errors.js';
import { native } from './native.js';

const BYTES_FLOOR = 1 << 30;
const RANGES_FLOOR = 4096;

/** Mappings left to the rest of the process (V8's heap, malloc, libraries) when ours are refused. */
const HEADROOM = 8192;
/** From this many ranges of ours on, the process's real mapping count is sampled… */
const SAMPLE_FROM = 16384;
/** …once per this many new ranges (fewer than {@link HEADROOM}, so no sample misses the limit). */
const SAMPLE_EVERY = 1024;

/** Per isolate (module state): the lowest totals seen since the last request. */
let baseBytes = 0;
let baseRanges = 0;
let nextSample = SAMPLE_FROM;
let maxMapCount: number | undefined;

function kernelMapLimit(): number {
  if (maxMapCount === undefined) {
    try {
      maxMapCount = Number.parseInt(readFileSync('/proc/sys/vm/max_map_count', 'utf8'), 10) || Infinity;
    } catch {
      maxMapCount = Infinity; // not Linux: no such limit to watch
    }
  }
  return maxMapCount;
}

/** Kernel mappings (VMAs) of this process: one line each in /proc/self/maps. */
function processMappings(): number {
  const maps = readFileSync('/proc/self/maps');
  let lines = 0;
  for (let i = maps.indexOf(10); i >= 0; i = maps.indexOf(10, i + 1)) lines++;
  return lines;
}

/**
 * Called before each new mapping: refuses it while the process is close to
 * the kernel's mapping limit. Address ranges kept after `close()` (see
 * native/addon.cc, Unmap) often merge with their neighbours, so the count of
 * ranges we hold is only a trigger for reading the real count.
 * @throws {SyscallError} `ENOMEM` (syscall `mmap`), naming the block
 */
export function checkMappingRoom(name: string): void {
  const ranges = native.mappedRanges();
  // Collections lower the count; never wait longer than SAMPLE_EVERY from here.
  nextSample = Math.min(nextSample, Math.max(SAMPLE_FROM, ranges + SAMPLE_EVERY));
  if (ranges < nextSample) return;
  nextSample = ranges + SAMPLE_EVERY;
  const limit = kernelMapLimit();
  if (limit === Infinity) return;
  const used = processMappings();
  if (used < limit - HEADROOM) return;
  nextSample = ranges; // sample again on the next attempt: a GC may have freed some
  native.requestGc(Math.max(native.mappedBytes(), BYTES_FLOOR));
  const err: SyscallError = syscallError(-constants.errno.ENOMEM, 'mmap', name);
  err.message +=
    `: this process holds ${used} memory mappings and the kernel allows ${limit} (vm.max_map_count).` +
    ' close() the blocks you no longer need; blocks dropped without close() are unmapped by the garbage collector once the event loop runs';
  throw err;
}

/** Called after each new mapping. */
export function noteMapping(): void {
  const mapped = native.mappedBytes();
  const ranges = native.mappedRanges();
  if (mapped < baseBytes) baseBytes = mapped;
  if (ranges < baseRanges) baseRanges = ranges;
  const bytesGrew = mapped - baseBytes >= Math.max(BYTES_FLOOR, baseBytes);
  const rangesGrew = ranges - baseRanges >= Math.max(RANGES_FLOOR, baseRanges);
  if (!bytesGrew && !rangesGrew) return;
  // Pressure V8 reacts to: at least what is mapped, and at least the floor, so
  // that thousands of 4 KiB mappings make it collect as one big one would.
  native.requestGc(Math.max(mapped, BYTES_FLOOR));
  baseBytes = mapped;
  baseRanges = ranges;
}
