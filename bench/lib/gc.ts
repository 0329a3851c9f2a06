/**
 * Counts the garbage collections V8 runs during a piece of work, from Node's
 * `gc` performance entries (what `--trace-gc` prints, one entry per pause).
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export interface GcCount {
  /** Full mark-compact collections. */
  major: number;
  /** Scavenges of the young generation. */
  minor: number;
  /** Incremental marking steps and weak-callback processing. */
  other: number;
  /** Time spent in all of them, ms. */
  ms: number;
}

/** Runs `work` (synchronously) and counts the GCs it caused. */
export async function countGc(work: () => void): Promise<GcCount> {
  // Let collections that earlier work scheduled finish before counting.
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(20);
  const count: GcCount = { major: 0, minor: 0, other: 0, ms: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Node puts { kind, flags } on gc entries (not in the PerformanceEntry type).
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) count.major++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) count.minor++;
      else count.other++;
      count.ms += e.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  work();
  // Node delivers gc entries from the event loop.
  await sleep(50);
  observer.disconnect();
  return count;
}

/** `3 major, 0 minor (12.1 ms)` */
export function formatGc(c: GcCount): string {
  return `${c.major} major, ${c.minor} minor${c.other ? `, ${c.other} other` : ''} (${c.ms.toFixed(1)} ms)`;
}
