/** What `/dev/shm` holds, and how its memory is paged, for tests that check either. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { NodeOptions } from './processes.js';

export const SHM_DIR = '/dev/shm';

/** Names in /dev/shm, sorted. */
export function listShm(): string[] {
  return readdirSync(SHM_DIR).sort();
}

/** Whether a block of that name exists. */
export function shmExists(name: string): boolean {
  return existsSync(`${SHM_DIR}/${name}`);
}

/**
 * Whether `fn` leaves /dev/shm as it found it: for calls that must refuse
 * before creating anything. Other test files run at the same time, and some
 * make and unlink blocks by the thousand for seconds (property tests), so a
 * difference counts against `fn` only if it shows on every try, retried with
 * growing pauses for up to `patienceMs` — until a quiet moment, which a call
 * that really leaves a block behind never gets.
 */
export function createsNoBlock(fn: () => void, patienceMs = 15_000): boolean {
  const end = Date.now() + patienceMs;
  for (let pause = 10; ; pause = Math.min(pause * 2, 1000)) {
    const before = listShm();
    fn();
    const after = listShm();
    if (before.length === after.length && before.every((n, k) => n === after[k])) return true;
    if (Date.now() + pause > end) return false;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause); // a synchronous sleep: fn and its caller are synchronous
  }
}

/**
 * Whether blocks in /dev/shm may get transparent huge pages: the `huge=`
 * option of the tmpfs mounted there (`never` when absent), unless
 * /sys/kernel/mm/transparent_hugepage/shmem_enabled says `force` (every tmpfs)
 * or `deny` (none) — the kernel's rules (Documentation/admin-guide/mm/transhuge.rst).
 */
export function shmHugePages(): string {
  const knob = '/sys/kernel/mm/transparent_hugepage/shmem_enabled';
  const global = existsSync(knob) ? /\[(\w+)\]/.exec(readFileSync(knob, 'utf8'))?.[1] : undefined;
  if (global === 'force') return 'force';
  if (global === 'deny') return 'never';
  // mountinfo: "id parent dev root mountpoint options … - fstype source superoptions";
  // the mount that holds /dev/shm is the longest mount point over it, the last one listed.
  let holder: { point: string; fstype: string; options: string } | undefined;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)) {
    const [left, right = ''] = line.split(' - ');
    const point = left!.split(' ')[4]!;
    const [fstype = '', , options = ''] = right.split(' ');
    if ((SHM_DIR === point || SHM_DIR.startsWith(point === '/' ? '/' : `${point}/`)) && point.length >= (holder?.point.length ?? 0)) {
      holder = { point, fstype, options };
    }
  }
  if (holder?.fstype !== 'tmpfs') return 'never';
  return /(?:^|,)huge=(\w+)/.exec(holder.options)?.[1] ?? 'never';
}

/**
 * Where a test that counts 4 KiB pages (resident sizes, page faults) must run
 * its child: /dev/shm as it is when its blocks get no huge pages, else a
 * private tmpfs mounted `huge=never` (needs unshare: see NodeOptions.privateShm).
 * @throws where shmem_enabled is `force`: no tmpfs then uses 4 KiB pages
 */
export function fourKiBPageShm(): Pick<NodeOptions, 'privateShm'> {
  const policy = shmHugePages();
  if (policy === 'force') {
    throw new Error('this test counts 4 KiB pages, but /sys/kernel/mm/transparent_hugepage/shmem_enabled is "force": every tmpfs uses huge pages here');
  }
  return policy === 'never' ? {} : { privateShm: 'huge=never' };
}
