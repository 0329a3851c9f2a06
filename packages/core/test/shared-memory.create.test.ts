import { describe, expect, it } from '@jest/globals';
import { statSync } from 'node:fs';
import { SharedMemory } from '@shmbridge/core';
import { createsNoBlock, fourKiBPageShm, runNode, shmExists } from '@shmbridge/testkit';

describe('SharedMemory create', () => {
  it('generates a psm_ + 8 lowercase hex name, as CPython does', () => {
    const shm = SharedMemory.create(10);
    try {
      expect(shm.name).toMatch(/^psm_[0-9a-f]{8}$/);
      expect(shmExists(shm.name)).toBe(true);
    } finally {
      shm.close().unlink();
    }
  });

  it('creates the block with mode 0600 and the requested size', () => {
    const shm = new SharedMemory({ create: true, size: 12345 });
    try {
      const st = statSync(`/dev/shm/${shm.name}`);
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.size).toBe(12345);
      expect(shm.size).toBe(12345);
      expect(shm.buf.length).toBe(12345);
    } finally {
      shm.close().unlink();
    }
  });

  it('uses a given name without a leading slash, and reports it unchanged', () => {
    const name = `shmbridge_test_${process.pid}_named é`;
    const shm = SharedMemory.create(64, { name });
    try {
      expect(shm.name).toBe(name);
      expect(shmExists(name)).toBe(true);
    } finally {
      shm.close().unlink();
    }
  });

  it('hands out zeroed memory, and buf is the same Buffer every time', () => {
    const shm = SharedMemory.create(4096);
    try {
      expect(shm.buf).toBe(shm.buf);
      expect(Buffer.isBuffer(shm.buf)).toBe(true);
      expect(shm.buf.every((b) => b === 0)).toBe(true);
    } finally {
      shm.close().unlink();
    }
  });

  it('refuses an existing name with EEXIST and leaves the existing block untouched', () => {
    const first = SharedMemory.create(16, { name: `shmbridge_test_${process.pid}_exists` });
    first.buf[3] = 7;
    try {
      let err: any;
      try {
        SharedMemory.create(32, { name: first.name });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe('EEXIST');
      expect(err.syscall).toBe('shm_open');
      expect(err.path).toBe(first.name);
      expect(err.message).toContain(first.name);
      expect(statSync(`/dev/shm/${first.name}`).size).toBe(16);
      expect(first.buf[3]).toBe(7);
    } finally {
      first.close().unlink();
    }
  });

  it.each([
    ['size 0', { create: true, size: 0 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['no size', { create: true }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['negative size', { create: true, size: -1 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['fractional size', { create: true, size: 1.5 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['NaN size', { create: true, size: NaN }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['Infinity size', { create: true, size: Infinity }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['size past 2^53', { create: true, size: 2 ** 53 }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['string size', { create: true, size: '10' }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['bigint size', { create: true, size: 10n }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['string create', { create: 'yes', size: 10 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['unknown option', { create: true, size: 10, sise: 3 }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['number name', { create: true, size: 10, name: 5 }, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['empty name', { create: true, size: 10, name: '' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['name with a slash', { create: true, size: 10, name: 'a/b' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['name with a leading slash', { create: true, size: 10, name: '/psm_x' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['name with NUL', { create: true, size: 10, name: 'a\0b' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['name "."', { create: true, size: 10, name: '.' }, TypeError, 'ERR_INVALID_ARG_VALUE'],
    ['name too long', { create: true, size: 10, name: 'x'.repeat(256) }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['name too long in UTF-8 bytes', { create: true, size: 10, name: 'é'.repeat(128) }, RangeError, 'ERR_OUT_OF_RANGE'],
    ['options not an object', 10, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['attach without a name', {}, TypeError, 'ERR_INVALID_ARG_TYPE'],
  ])('refuses %s before any syscall', (_label, options, ErrorClass, code) => {
    let err: any;
    expect(createsNoBlock(() => {
      try {
        new SharedMemory(options as any);
      } catch (e) {
        err = e;
      }
    })).toBe(true);
    expect(err).toBeInstanceOf(ErrorClass);
    expect(err.code).toBe(code);
    expect(err.syscall).toBeUndefined();
  });

  it('accepts the longest name the platform allows (255 bytes on Linux)', () => {
    const name = `shmbridge_${process.pid}_`.padEnd(255, 'x');
    const shm = SharedMemory.create(8, { name });
    expect(shm.name).toBe(name);
    shm.close().unlink();
  });

  it('creates untracked and unreserved blocks when asked', () => {
    const shm = SharedMemory.create(8, { track: false, reserve: false });
    expect(shm.tracked).toBe(false);
    const tracked = SharedMemory.create(8);
    expect(tracked.tracked).toBe(true);
    expect(tracked.close().unlink().tracked).toBe(false); // unlinked: nothing left to track
    shm.close().unlink();
  });

  it('gives a handle with toJSON, and JSON.stringify uses it', () => {
    const shm = SharedMemory.create(100);
    try {
      expect(shm.toJSON()).toEqual({ name: shm.name, size: 100 });
      const revived = SharedMemory.attach(JSON.parse(JSON.stringify(shm)).name);
      expect(revived.size).toBe(100);
      revived.close();
    } finally {
      shm.close().unlink();
    }
  });

  // Both count 4 KiB pages, so each runs in a child on a /dev/shm without
  // transparent huge pages (a private huge=never tmpfs where /dev/shm has them).
  it('populates pages at create by default, and on attach only when asked', async () => {
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const { readFileSync } = await import('node:fs');
      // Rss (kB) of every mapping of a block in this process, from /proc/self/smaps
      const resident = (name) =>
        readFileSync('/proc/self/smaps', 'utf8')
          .split(/\\n(?=[0-9a-f]+-[0-9a-f]+ )/)
          .filter((m) => m.split('\\n')[0].endsWith('/dev/shm/' + name))
          .map((m) => Number(/\\nRss:\\s+(\\d+) kB/.exec(m)[1]))
          .sort((x, y) => x - y);
      const a = SharedMemory.create(1 << 20);
      const b = SharedMemory.create(1 << 20, { populate: false });
      const out = { created: resident(a.name), lazyCreated: resident(b.name) };
      const lazy = SharedMemory.attach(a.name);
      out.lazyAttach = resident(a.name);
      lazy.close();
      b.buf.fill(1); // the pages exist now; an eager attach maps them all
      const eager = new SharedMemory({ name: b.name, populate: true });
      out.eagerAttach = resident(b.name);
      eager.close();
      a.close().unlink();
      b.close().unlink();
      console.log(JSON.stringify(out));
    `, fourKiBPageShm());
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ created: [1024], lazyCreated: [0], lazyAttach: [0, 1024], eagerAttach: [1024, 1024] });
  });

  it('populates created blocks writable: writing every page then takes no fault per page', async () => {
    // The process's fault count includes its other threads' (GC, compiler),
    // busiest just after start: the fewest of 5 rounds is the fill's own.
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const faults = () => process.resourceUsage().minorPageFault;
      let populatedFaults = Infinity, lazyFaults = Infinity;
      for (let round = 0; round < 5; round++) {
        const populated = SharedMemory.create(1 << 20);
        const lazy = SharedMemory.create(1 << 20, { populate: false });
        let before = faults();
        populated.buf.fill(1);
        populatedFaults = Math.min(populatedFaults, faults() - before);
        before = faults();
        lazy.buf.fill(1);
        lazyFaults = Math.min(lazyFaults, faults() - before);
        populated.close().unlink();
        lazy.close().unlink();
      }
      console.log(JSON.stringify({ populatedFaults, lazyFaults }));
    `, fourKiBPageShm());
    expect(r.stderr).toBe('');
    const { populatedFaults, lazyFaults } = JSON.parse(r.stdout) as { populatedFaults: number; lazyFaults: number };
    const pages = (1 << 20) / 4096;
    expect(lazyFaults).toBeGreaterThanOrEqual(pages); // one per page: the measure works
    expect(populatedFaults).toBeLessThan(pages / 8); // tmpfs has no page_mkwrite: MAP_POPULATE maps the pages writable
  });
});
