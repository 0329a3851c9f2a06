import { describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';
import { readableCoreCopy, runNode } from '@shmbridge/testkit';

describe('syscall errors', () => {
  it('EACCES: another user cannot attach a 0600 block', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test needs root, to run a child as another user (uid 65534)');
    const shm = SharedMemory.create(16);
    // uid 65534 may not be able to read the checkout (a 0700 home directory): it runs a copy.
    using copy = readableCoreCopy();
    try {
      const r = await runNode(`
        const { SharedMemory } = await import(${JSON.stringify(copy.core)});
        try { SharedMemory.attach(${JSON.stringify(shm.name)}); console.log('attached'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path, message: e.message })); }
      `, { uid: 65534, gid: 65534, env: { HOME: '/tmp' }, cwd: copy.dir });
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
    // The child gets a 1 MiB /dev/shm of its own: needs root (or unprivileged
    // user namespaces); where that is refused these tests fail saying so.
    const inSmallShm = (code: string) => runNode(`
      const { SharedMemory } = await import(core);
      const out = {};
      try { SharedMemory.create(2 << 20); out.reserved = 'created'; } catch (e) { out.reserved = [e.code, e.syscall]; }
      ${code}
      console.log(JSON.stringify(out));
    `, { privateShm: 'size=1m' });

    it('fails at create with ENOSPC (posix_fallocate) and leaves no block behind', async () => {
      const r = await inSmallShm(`out.left = (await import('node:fs')).readdirSync('/dev/shm');`);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout);
      expect(out.reserved).toEqual(['ENOSPC', 'posix_fallocate']);
      expect(out.left).toEqual([]);
    });

    it('with reserve: false, create succeeds (the SIGBUS risk is the caller\'s)', async () => {
      const r = await inSmallShm(`const s = SharedMemory.create(2 << 20, { reserve: false }); out.unreserved = s.size; s.close().unlink();`);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout).unreserved).toBe(2 << 20);
    });
  });
});
