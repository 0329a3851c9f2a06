import { describe, expect, it } from '@jest/globals';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { SharedMemory } from '@shmbridge/core';
import { shmExists } from '@shmbridge/testkit';

describe('SharedMemory attach', () => {
  it('sees the same memory as the creator, both ways', () => {
    const a = SharedMemory.create(64);
    const b = SharedMemory.attach(a.name);
    const c = new SharedMemory({ name: a.name }); // Python's form
    try {
      expect(b.size).toBe(64);
      a.buf.write('from a', 0);
      expect(b.buf.toString('utf8', 0, 6)).toBe('from a');
      c.buf[10] = 99;
      expect(a.buf[10]).toBe(99);
      expect(b.tracked).toBe(false);
    } finally {
      c.close();
      b.close();
      a.close().unlink();
    }
  });

  it('takes the size from fstat, ignoring a size option as CPython does', () => {
    const a = SharedMemory.create(5000);
    const b = new SharedMemory({ name: a.name, size: 10 });
    expect(b.size).toBe(5000);
    expect(b.buf.length).toBe(5000);
    b.close();
    a.close().unlink();
  });

  it('fails with ENOENT naming the block and the syscall', () => {
    let err: any;
    try {
      SharedMemory.attach(`shmbridge_missing_${process.pid}`);
    } catch (e) {
      err = e;
    }
    expect(err.code).toBe('ENOENT');
    expect(err.errno).toBe(-2);
    expect(err.syscall).toBe('shm_open');
    expect(err.path).toBe(`shmbridge_missing_${process.pid}`);
    expect(err.message).toBe(`ENOENT: no such file or directory, shm_open 'shmbridge_missing_${process.pid}'`);
  });

  it('refuses an empty (0-byte) block with EINVAL instead of mapping nothing', () => {
    const name = `shmbridge_empty_${process.pid}`;
    closeSync(openSync(`/dev/shm/${name}`, 'w', 0o600));
    try {
      let err: any;
      try {
        SharedMemory.attach(name);
      } catch (e) {
        err = e;
      }
      expect(err.code).toBe('EINVAL');
      expect(err.syscall).toBe('mmap');
      expect(err.message).toContain('empty block');
    } finally {
      unlinkSync(`/dev/shm/${name}`);
    }
  });

  it('attaches a block whose size is not a multiple of the page size', () => {
    const name = `shmbridge_odd_${process.pid}`;
    const fd = openSync(`/dev/shm/${name}`, 'w', 0o600);
    writeSync(fd, Buffer.from('abcdefg'));
    closeSync(fd);
    const shm = SharedMemory.attach(name);
    expect(shm.size).toBe(7);
    expect(shm.buf.toString()).toBe('abcdefg');
    shm.close().unlink();
    expect(shmExists(name)).toBe(false);
  });
});
