import { describe, expect, it } from '@jest/globals';
import { SharedMemory, Tensor, formatNpyHeader } from '@shmbridge/core';

// A .npy header is read from a block another process wrote: whatever is wrong
// with it is a corrupt block (ERR_SHM_CORRUPT), as for any other bad header.
// The same problems in the caller's own arguments stay argument errors.
function blockWithHeader(descr: string, shape: number[]): SharedMemory {
  const header = formatNpyHeader(descr, false, shape);
  const shm = SharedMemory.create(header.length + 64);
  shm.buf.set(header);
  return shm;
}

describe('Tensor.attach of a block whose .npy header cannot be used', () => {
  it('refuses a dtype shmbridge cannot read (complex128, datetime64, nonsense) as ERR_SHM_CORRUPT', () => {
    for (const descr of ['<c16', '<M8[ns]', 'x']) {
      const shm = blockWithHeader(descr, [2]);
      try {
        expect(() => Tensor.attach(shm.name)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT', message: expect.stringContaining(`is corrupt: bad .npy header: descr ${JSON.stringify(descr)}`) }));
      } finally {
        shm.close().unlink();
      }
    }
  });

  it('refuses a shape whose element count overflows as ERR_SHM_CORRUPT', () => {
    const shm = blockWithHeader('<f8', [2 ** 26, 2 ** 26, 2 ** 26]);
    try {
      expect(() => Tensor.attach(shm.name)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT', message: expect.stringMatching(/more elements than can be addressed/) }));
    } finally {
      shm.close().unlink();
    }
  });

  it('keeps argument errors as argument errors: a bad dtype or shape given to create', () => {
    expect(() => Tensor.create({ dtype: 'complex128' as never, shape: [2] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => Tensor.create({ dtype: 'float64', shape: [2 ** 26, 2 ** 26, 2 ** 26] })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => Tensor.attach({ name: 'x', dtype: '<c16', shape: [1] } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
