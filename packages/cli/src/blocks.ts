/**
 * The blocks on this machine: POSIX shared memory lives in /dev/shm on
 * Linux, one file per block (macOS has no such directory: `ls` is Linux-only,
 * `show` and `rm` work anywhere by name).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { kindOf, type Kind } from './kind.js';

export const SHM_DIR = '/dev/shm';

export interface BlockInfo {
  name: string;
  size: number;
  owner: string;
  /** Seconds since its last change. */
  ageSeconds: number;
  /** What it holds, or `null` when it could not be read (`error` says why). */
  kind: Kind | null;
  error?: string;
}

/** uid → user name, from /etc/passwd (numeric when unknown). */
function userNames(): (uid: number) => string {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid] = line.split(':');
      if (user && uid) names.set(Number(uid), user);
    }
  } catch {
    // no passwd file: numeric owners
  }
  const me = userInfo();
  names.set(me.uid, me.username);
  return (uid) => names.get(uid) ?? String(uid);
}

/** Every block in /dev/shm, sorted by name. */
export function listBlocks(dir = SHM_DIR, now = Date.now()): BlockInfo[] {
  const owner = userNames();
  const out: BlockInfo[] = [];
  for (const name of readdirSync(dir).sort()) {
    let st;
    try {
      st = statSync(join(dir, name));
    } catch {
      continue; // unlinked while we looked
    }
    if (!st.isFile()) continue;
    const info: BlockInfo = { name, size: st.size, owner: owner(st.uid), ageSeconds: Math.max(0, Math.round((now - st.mtimeMs) / 1000)), kind: null };
    try {
      info.kind = st.size === 0 ? 'raw' : kindOf(name);
    } catch (err) {
      info.error = `${(err as NodeJS.ErrnoException).code ?? 'ERROR'}: cannot read it`;
    }
    out.push(info);
  }
  return out;
}
