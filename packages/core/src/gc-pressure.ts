/**
 * When to ask V8 for a garbage collection on behalf of dropped mappings.
 *
 * Mappings are deliberately not charged to V8's external-memory budget (a
 * charge forces a full GC per wrap of 64 MiB or more; see native/addon.cc), so
 * V8 does not know that a `SharedMemory` dropped without `close()` may hold
 * gigabytes. This bounds that case the way V8 bounds its own heap: `base` is
 * the lowest mapped total seen since the last request (collections bring it
 * down); once mappings grow past it by max(1 GiB, base), V8 is asked to
 * collect. Code that closes what it maps never gets there and never pays for
 * a GC. Node runs the unmapping finalizers from the event loop, so a loop that
 * never yields is only cleaned up once it does.
 */
import { native } from './native.js';

const FLOOR = 1 << 30;

/** Per isolate (module state): the lowest mapped total seen since the last request. */
let base = 0;

/** Called after each new mapping. */
export function noteMapping(): void {
  const mapped = native.mappedBytes();
  if (mapped < base) base = mapped;
  if (mapped - base < Math.max(FLOOR, base)) return;
  native.requestGc(mapped);
  base = mapped;
}
