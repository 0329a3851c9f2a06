// The suite's leak guard (used by scripts/test.mjs, tested in
// test/shm-guard.test.ts): a run must leave /dev/shm exactly as it found it,
// and no tracker may have cleaned up after a test. The second check catches
// what the first cannot see: a block a Python test created and never
// unlinked is removed by CPython's resource tracker when that Python exits —
// before /dev/shm is compared — and all that is left of it is the tracker's
// warning (multiprocessing/resource_tracker.py, 3.8–3.13). shmbridge's own
// tracker says the same in its words (packages/core/native/tracker.c).
import { readdirSync } from 'node:fs';

export const SHM_DIR = '/dev/shm';

const TRACKER_REPORTS = [
  /shmbridge: process \d+ exited without unlinking shared memory it created; unlinked:.*/g,
  /resource_tracker: There appear to be \d+ leaked shared_memory objects to clean up at shutdown.*/g,
];

/** What /dev/shm holds now, sorted. */
export function snapshot() {
  return readdirSync(SHM_DIR).sort();
}

/** Lines of `output` in which a tracker says it unlinked blocks someone leaked. */
export function trackerReports(output) {
  return TRACKER_REPORTS.flatMap((re) => [...output.matchAll(re)].map((m) => m[0]));
}

/**
 * Everything wrong with a run that started with `before` in /dev/shm, ended
 * with `after`, and printed `output`; empty when nothing leaked.
 */
export function leakProblems(before, after, output) {
  const problems = [];
  const added = after.filter((n) => !before.includes(n));
  const removed = before.filter((n) => !after.includes(n));
  if (added.length || removed.length) {
    problems.push(`${SHM_DIR} changed: left behind [${added.join(', ')}], removed [${removed.join(', ')}]`);
  }
  const reported = trackerReports(output);
  if (reported.length) problems.push(`trackers cleaned up blocks a test leaked:\n    ${reported.join('\n    ')}`);
  return problems;
}
