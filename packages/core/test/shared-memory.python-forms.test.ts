import { describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';
import { listShm, shmExists } from '@shmbridge/testkit';

// Python's SharedMemory(name=None, create=False, size=0, *, track=True), called positionally.
describe('new SharedMemory(...) in Python\'s positional forms', () => {
  it("attaches with a name alone: new SharedMemory('psm_…') is SharedMemory('psm_…')", () => {
    const a = SharedMemory.create(32);
    try {
      a.buf.write('hi');
      const b = new SharedMemory(a.name);
      expect(b.name).toBe(a.name);
      expect(b.size).toBe(32);
      expect(b.tracked).toBe(false);
      expect(b.buf.toString('utf8', 0, 2)).toBe('hi');
      b.close();
    } finally {
      a.close().unlink();
    }
  });

  it('takes (name, { …keywords }) as Python\'s SharedMemory(name, create=True, size=…)', () => {
    const name = `psm_forms_${process.pid}`;
    const a = new SharedMemory(name, { create: true, size: 24, track: false });
    try {
      expect([a.name, a.size, a.tracked]).toEqual([name, 24, false]);
      const b = new SharedMemory(name, { populate: true });
      expect(b.size).toBe(24);
      b.close();
    } finally {
      a.close().unlink();
    }
  });

  it('takes (null, true, size, { track }) as SharedMemory(None, True, size, track=…)', () => {
    const a = new SharedMemory(null, true, 100);
    const b = new SharedMemory(null, true, 100, { track: false });
    try {
      expect(a.name).toMatch(/^psm_[0-9a-f]{8}$/);
      expect([a.size, a.tracked, b.size, b.tracked]).toEqual([100, true, 100, false]);
      // create=False with a size attaches and ignores the size, as CPython does
      const c = new SharedMemory(a.name, false, 5);
      expect(c.size).toBe(100);
      c.close();
    } finally {
      a.close().unlink();
      b.close().unlink();
    }
  });

  it.each([
    ['a number name', () => new SharedMemory(3 as never, true, 10), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'The "name" argument must be of type string (or null with create). Received type number (3)'],
    ['null without create', () => new SharedMemory(null as never), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'The "name" argument must be a string when attaching (create is false). Received null'],
    ['create not a boolean', () => new SharedMemory(null, 'yes' as never, 10), 'TypeError', 'ERR_INVALID_ARG_TYPE', "The \"create\" argument must be of type boolean. Received type string ('yes')"],
    ['create without a size', () => new SharedMemory(null, true), 'TypeError', 'ERR_INVALID_ARG_TYPE', 'The "size" argument must be of type number (bytes) when creating. Received undefined'],
    ['create with size 0', () => new SharedMemory(null, true, 0), 'RangeError', 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be a positive integer (bytes, at most ${Number.MAX_SAFE_INTEGER}) when creating. Received type number (0)`],
    ['the name twice', () => new SharedMemory('psm_a', { name: 'psm_b' } as never), 'TypeError', 'ERR_INVALID_ARG_VALUE', 'The "options" argument must not repeat the name given as the first argument. Received an instance of Object'],
    ['size in the keywords after (name, create, size)', () => new SharedMemory(null, true, 8, { size: 9 } as never), 'TypeError', 'ERR_INVALID_ARG_VALUE', 'The "options" argument takes only track, reserve and populate after (name, create, size). Received an instance of Object'],
    ['an unknown keyword', () => new SharedMemory('psm_a', { trak: false } as never), 'TypeError', 'ERR_INVALID_ARG_VALUE', "The \"options\" argument has unknown key 'trak'. Received an instance of Object"],
  ])('refuses %s before any syscall, with a message about that argument', (_label, f, name, code, message) => {
    const before = listShm();
    let err: (Error & { code?: string; syscall?: string }) | undefined;
    try {
      f();
    } catch (e) {
      err = e as Error;
    }
    expect(err && { name: err.name, code: err.code, message: err.message, syscall: err.syscall }).toEqual({ name, code, message, syscall: undefined });
    expect(listShm()).toEqual(before);
  });

  it("a name that does not exist is ENOENT from shm_open, like Python's FileNotFoundError", () => {
    expect(shmExists('psm_no_such_block')).toBe(false);
    let err: (Error & { code?: string; syscall?: string; path?: string }) | undefined;
    try {
      new SharedMemory('psm_no_such_block');
    } catch (e) {
      err = e as Error;
    }
    expect(err && { code: err.code, syscall: err.syscall, path: err.path }).toEqual({ code: 'ENOENT', syscall: 'shm_open', path: 'psm_no_such_block' });
  });
});
