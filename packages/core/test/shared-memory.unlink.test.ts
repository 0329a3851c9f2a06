import { describe, expect, it } from '@jest/globals';
import { SharedMemory, unlinkBlock } from '@shmbridge/core';
import { shmExists } from '@shmbridge/testkit';

describe('SharedMemory#unlink', () => {
  it('removes the name; mappings that exist keep working until closed', () => {
    const a = SharedMemory.create(32);
    const b = SharedMemory.attach(a.name);
    a.unlink();
    expect(shmExists(a.name)).toBe(false);
    b.buf[0] = 5;
    expect(a.buf[0]).toBe(5);
    b.close();
    a.close();
  });

  it('throws ENOENT the second time, like shm_unlink and CPython', () => {
    const a = SharedMemory.create(32);
    a.close().unlink();
    let err: any;
    try {
      a.unlink();
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('ENOENT');
    expect(err.syscall).toBe('shm_unlink');
    expect(err.path).toBe(a.name);
  });

  it('works after close and returns this', () => {
    const a = SharedMemory.create(32);
    expect(a.close().unlink()).toBe(a);
    expect(shmExists(a.name)).toBe(false);
  });
});

describe('unlinkBlock', () => {
  it('removes a block by name without attaching, with the same errors', () => {
    const a = SharedMemory.create(8);
    a.close();
    unlinkBlock(a.name);
    expect(shmExists(a.name)).toBe(false);
    expect(() => unlinkBlock(a.name)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'shm_unlink', path: a.name }));
    expect(() => unlinkBlock('a/b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
