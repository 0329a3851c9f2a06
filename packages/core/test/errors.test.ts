import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { SharedMemory } from '@shmbridge/core';
import { entries, runNode } from '@shmbridge/testkit';

describe('syscall errors', () => {
  it('EACCES: another user cannot attach a 0600 block', async () => {
    const shm = SharedMemory.create(16);
    try {
      if (process.getuid?.() !== 0) throw new Error('this test needs root to run a child as another user (uid 65534)');
      const r = await runNode(`
        const { SharedMemory } = await import(core);
        try { SharedMemory.attach(${JSON.stringify(shm.name)}); console.log('attached'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path, message: e.message })); }
      `, { uid: 65534, gid: 65534, env: { HOME: '/tmp' } });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        code: 'EACCES',
        syscall: 'shm_open',
        path: shm.name,
        message: `EACCES: permission denied, shm_open '${shm.name}'`,
      });
    } finally {
      shm.close().unlink();
    }
  });

  describe('ENOSPC on a full /dev/shm (private 1 MiB tmpfs)', () => {
    const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=1m tmpfs /dev/shm'], { encoding: 'utf8' });
    const permitted = probe.status === 0;
    if (!permitted) {
      // Visible in the output: this environment cannot make a private mount.
      console.warn(`SKIPPED ENOSPC tests: unshare -m is not permitted here (${probe.stderr.trim() || probe.error?.message})`);
    }
    const maybe = permitted ? it : it.skip;

    function inSmallShm(code: string) {
      // The child runs in its own mount namespace with a 1 MiB /dev/shm.
      const script = `
        import(process.env.CORE).then(async ({ SharedMemory }) => {
          const out = {};
          try { SharedMemory.create(2 << 20); out.reserved = 'created'; } catch (e) { out.reserved = [e.code, e.syscall]; }
          ${code}
          console.log(JSON.stringify(out));
        });`;
      const r = spawnSync('unshare', ['-m', 'sh', '-c',
        `mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$0" --input-type=module -e "$1"`, process.execPath, script],
        { encoding: 'utf8', env: { ...process.env, CORE: entries.core } });
      return r;
    }

    maybe('fails at create with ENOSPC (posix_fallocate) and leaves no block behind', () => {
      const r = inSmallShm(`out.left = (await import('node:fs')).readdirSync('/dev/shm');`);
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.reserved).toEqual(['ENOSPC', 'posix_fallocate']);
      expect(out.left).toEqual([]);
    });

    maybe('with reserve: false, create succeeds (the SIGBUS risk is the caller\'s)', () => {
      const r = inSmallShm(`const s = SharedMemory.create(2 << 20, { reserve: false }); out.unreserved = s.size; s.close().unlink();`);
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout).unreserved).toBe(2 << 20);
    });
  });
});
