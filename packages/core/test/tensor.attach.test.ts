import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { listShm, python3, startPython } from '@shmbridge/testkit';

/** How many mappings of block `name` this process has (Linux: /proc/self/maps). */
function mappingsOf(name: string): number {
  return readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.endsWith(`/dev/shm/${name}`)).length;
}

function caught(f: () => unknown): (Error & { code?: string }) | undefined {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

describe('Tensor.attach(name, { dtype })', () => {
  it('returns the tensor when the block holds that dtype (by name or NumPy string)', () => {
    const made = Tensor.create({ dtype: 'int64', shape: [3] });
    try {
      made.data.set([1n, -2n, 3n]);
      const t = Tensor.attach(made.shm.name, { dtype: 'int64' });
      expect([t.dtype, [...t.data]]).toEqual(['int64', [1n, -2n, 3n]]);
      t.close();
      const u = Tensor.attach(made.shm.name, { dtype: '<i8' as 'int64' });
      expect(u.dtype).toBe('int64');
      u.close();
    } finally {
      made.close();
      made.shm.unlink();
    }
  });

  it('refuses a block of another dtype with ERR_SHM_DTYPE_MISMATCH, and unmaps what it attached', () => {
    const made = Tensor.create({ dtype: 'float32', shape: [2, 2] });
    try {
      expect(mappingsOf(made.shm.name)).toBe(1);
      const err = caught(() => Tensor.attach(made.shm.name, { dtype: 'int64' }));
      expect(mappingsOf(made.shm.name)).toBe(1);
      expect(err && [err.name, err.code, err.message]).toEqual(['TypeError', 'ERR_SHM_DTYPE_MISMATCH', `Tensor '${made.shm.name}' holds float32 ('<f4'), not int64 (options.dtype)`]);
      // A handle's dtype is checked the same way.
      const viaHandle = caught(() => Tensor.attach(made.handle, { dtype: 'uint32' }));
      expect(viaHandle?.code).toBe('ERR_SHM_DTYPE_MISMATCH');
    } finally {
      made.close();
      made.shm.unlink();
    }
  });

  it('checks options.dtype before any syscall', () => {
    const before = listShm();
    const unknown = caught(() => Tensor.attach('psm_no_such_tensor', { dtype: 'complex64' as never }));
    expect([unknown?.code, unknown?.message]).toEqual(['ERR_INVALID_ARG_VALUE', expect.stringContaining('"options.dtype" argument is not a supported dtype')]);
    const extra = caught(() => Tensor.attach('psm_no_such_tensor', { dtype: 'int8', shape: [1] } as never));
    expect([extra?.code, extra?.message]).toEqual(['ERR_INVALID_ARG_VALUE', "The \"options\" argument has unknown key 'shape'. Received an instance of Object"]);
    expect(listShm()).toEqual(before);
  });

  it("types numpy's own array by the dtype it was shared with (python3 shmbridge.share)", async () => {
    const p = startPython(python3(), `
import sys, numpy as np, shmbridge
shm, handle = shmbridge.share(np.array([[1, 2], [3, 4]], dtype=np.uint16))
print(shm.name, flush=True)
sys.stdin.readline()
shm.close(); shm.unlink()
`);
    const name = await p.firstLine();
    try {
      const t = Tensor.attach(name, { dtype: 'uint16' });
      expect([t.shape, [...t.data]]).toEqual([[2, 2], [1, 2, 3, 4]]);
      t.close();
      expect(caught(() => Tensor.attach(name, { dtype: 'int16' }))?.code).toBe('ERR_SHM_DTYPE_MISMATCH');
    } finally {
      p.send('\n');
      await p.done;
    }
  });

  it('without options returns a tensor of the block\'s dtype, narrowed by t.dtype', () => {
    const shm = SharedMemory.create(16);
    try {
      const t = Tensor.attach({ name: shm.name, dtype: '<u1', shape: [16], offset: 0, strides: [1] });
      if (t.dtype !== 'uint8') throw new Error(`expected uint8, got ${t.dtype}`);
      t.data.set([7], 3);
      expect(shm.buf[3]).toBe(7);
      t.close();
    } finally {
      shm.close().unlink();
    }
  });
});
