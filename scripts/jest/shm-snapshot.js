// Jest globalSetup: remember what /dev/shm holds before any test runs.
import { readdirSync } from 'node:fs';

export default function snapshotShm() {
  globalThis.__shmBefore = readdirSync('/dev/shm').sort();
}
