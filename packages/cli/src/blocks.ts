/**
 * The blocks on this machine: POSIX shared memory lives in /dev/shm on
 * Linux, one file per block (macOS has no such directory: `ls` is Linux-only,
 * `show` and `rm` work anywhere by name).
 */
import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { SHM_DIR, withBlockFile } from './block-file.js';
import { kindOf, type Kind } from './kind.js';

export { SHM_DIR };

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
      st = lstatSync(join(dir, name)); // a symlink is not a block: never followed
    } catch {
      continue; // unlinked while we looked
    }
    if (!st.isFile()) continue;
    const info: BlockInfo = { name, size: st.size, owner: owner(st.uid), ageSeconds: Math.max(0, Math.round((now - st.mtimeMs) / 1000)), kind: null };
    try {
      info.kind = st.size === 0 ? 'raw' : withBlockFile(name, kindOf);
    } catch (err) {
      info.error = `${(err as NodeJS.ErrnoException).code ?? 'ERROR'}: cannot read it`;
    }
    out.push(info);
  }
  return out;
}
