// Jest globalTeardown: fail the run if /dev/shm does not hold exactly what it
// held before. Every test unlinks what it creates, including blocks made by the
// CPython and Node children it spawns.
import { readdirSync } from 'node:fs';

export default async function checkShm() {
  const before = new Set(globalThis.__shmBefore ?? []);
  const now = readdirSync('/dev/shm');
  const added = now.filter((n) => !before.has(n));
  const removed = [...before].filter((n) => !now.includes(n));
  if (added.length === 0 && removed.length === 0) return;
  throw new Error(
    `/dev/shm changed during the test run.\n  left behind: ${added.join(', ') || 'nothing'}\n  removed: ${removed.join(', ') || 'nothing'}`,
  );
}
