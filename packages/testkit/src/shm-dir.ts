/** What `/dev/shm` holds, for tests that check what was created and removed. */
import { existsSync, readdirSync } from 'node:fs';

export const SHM_DIR = '/dev/shm';

/** Names in /dev/shm, sorted. */
export function listShm(): string[] {
  return readdirSync(SHM_DIR).sort();
}

/** Whether a block of that name exists. */
export function shmExists(name: string): boolean {
  return existsSync(`${SHM_DIR}/${name}`);
}
