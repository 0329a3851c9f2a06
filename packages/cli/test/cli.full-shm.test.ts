import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { entries, python3 } from '@shmbridge/testkit';

// A sparse block (what CPython's create leaves: ftruncate, nothing written)
// on a full /dev/shm. Reading its pages through a mapping makes tmpfs
// allocate them: SIGBUS, since there is no room. Any local user can make
// this state (the directory is world-writable); `ls` and `show` must read
// with pread, which returns zeros for such pages and allocates nothing.
// Runs in a private mount namespace with a 1 MiB /dev/shm (needs root or
// unprivileged user namespaces for `unshare -m`).
describe('shmbridge on a full /dev/shm', () => {
  it('lists and shows a sparse block CPython made without SIGBUS, and changes nothing', () => {
    const script = `
set -e
mount -t tmpfs -o size=1m tmpfs /dev/shm
"$PY" -c '
from multiprocessing import shared_memory, resource_tracker
s = shared_memory.SharedMemory(create=True, size=512 * 1024, name="sparse_block")
resource_tracker.unregister(s._name, "shared_memory")
s.close()
'
dd if=/dev/zero of=/dev/shm/filler bs=4096 2>/dev/null || true   # until ENOSPC
before=$(du -k /dev/shm/sparse_block | cut -f1)
"$NODE" "$CLI" ls --json; echo "ls:$?"
"$NODE" "$CLI" show sparse_block --json; echo "show:$?"
"$NODE" "$CLI" show sparse_block; echo "text:$?"
echo "allocated:$before:$(du -k /dev/shm/sparse_block | cut -f1)"
`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script], {
      encoding: 'utf8',
      env: { ...process.env, PY: python3().executable, NODE: process.execPath, CLI: entries.cli },
    });
    if (r.error || (r.status !== 0 && /unshare/.test(r.stderr))) {
      throw new Error(`this test needs \`unshare -m\` (root or unprivileged user namespaces): ${r.stderr || r.error?.message}`);
    }
    expect(r.signal).toBeNull();
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('ls:0');
    expect(lines).toContain('show:0');
    expect(lines).toContain('text:0');
    const ls = JSON.parse(lines[0]!) as Array<{ name: string; size: number; kind: string }>;
    expect(ls.find((b) => b.name === 'sparse_block')).toMatchObject({ size: 512 * 1024, kind: 'raw' });
    const show = JSON.parse(lines[2]!);
    expect(show).toMatchObject({ name: 'sparse_block', kind: 'raw', firstBytes: '00'.repeat(64) });
    expect(lines.at(-1)).toBe('allocated:0:0'); // reading allocated no page of it
  });
});
