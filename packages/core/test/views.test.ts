import { describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';

describe('SharedMemory#view', () => {
  it('makes zero-copy typed arrays over the block', () => {
    const shm = SharedMemory.create(64);
    try {
      const f64 = shm.view(Float64Array);
      expect(f64.length).toBe(8);
      f64[1] = Math.PI;
      expect(shm.buf.readDoubleLE(8)).toBe(Math.PI);
      const tail = shm.view(Int32Array, { offset: 16, length: 4 });
      tail[0] = -1;
      expect(shm.buf.readInt32LE(16)).toBe(-1);
      const big = shm.view(BigInt64Array, { offset: 56 });
      big[0] = -(2n ** 63n);
      expect(shm.buf.readBigInt64LE(56)).toBe(-(2n ** 63n));
      const dv = shm.view(DataView, { offset: 3, length: 5 });
      expect(dv.byteLength).toBe(5);
      dv.setUint8(0, 200);
      expect(shm.buf[3]).toBe(200);
    } finally {
      shm.close().unlink();
    }
  });

  it('shares memory with another attachment of the same block', () => {
    const a = SharedMemory.create(16);
    const b = SharedMemory.attach(a.name);
    a.view(Float32Array)[2] = 1.25;
    expect(b.view(Float32Array)[2]).toBe(1.25);
    b.close();
    a.close().unlink();
  });

  it.each([
    ['a misaligned offset', Float64Array, { offset: 4 }, 'a multiple of 8'],
    ['a negative offset', Uint8Array, { offset: -1 }, 'out of range'],
    ['an offset past the end', Uint8Array, { offset: 65 }, 'out of range'],
    ['a length past the end', Float64Array, { offset: 8, length: 8 }, 'from 0 to 7'],
    ['a fractional length', Uint8Array, { length: 1.5 }, 'out of range'],
    ['an unknown option', Uint8Array, { start: 1 }, "unknown key 'start'"],
  ])('refuses %s with a RangeError/TypeError that says why', (_l, Ctor, options, message) => {
    const shm = SharedMemory.create(64);
    try {
      expect(() => shm.view(Ctor as any, options as any)).toThrow(message);
    } finally {
      shm.close().unlink();
    }
  });

  it('refuses buf and views of more elements than a typed array holds with ERR_OUT_OF_RANGE, and views a window of them', () => {
    // 1 TiB, neither reserved nor populated: only address space. V8's own RangeError had no code.
    const shm = SharedMemory.create(2 ** 40, { reserve: false, populate: false, track: false });
    try {
      expect(() => shm.buf).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringMatching(/Buffer; this block is 1099511627776/) }));
      expect(() => shm.view(Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => shm.view(Float64Array)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      const tail = shm.view(Float64Array, { offset: 2 ** 40 - 16, length: 2 });
      tail[1] = 2.5;
      expect(shm.view(DataView).getFloat64(2 ** 40 - 8, true)).toBe(2.5);
    } finally {
      shm.close().unlink();
    }
  });

  it('tells which open block a view shows (SharedMemory.of), and forgets it at close', () => {
    const shm = SharedMemory.create(64);
    const other = SharedMemory.attach(shm.name); // another mapping of the same block: another owner
    try {
      const xs = shm.view(Float64Array, { offset: 8, length: 2 });
      expect(SharedMemory.of(xs)).toBe(shm);
      expect(SharedMemory.of(shm.buf)).toBe(shm);
      expect(SharedMemory.of(xs.buffer)).toBe(shm);
      expect(SharedMemory.of(other.view(DataView))).toBe(other);
      expect(SharedMemory.of(new Float64Array(2))).toBeUndefined();
      expect(SharedMemory.of(Buffer.from(shm.buf))).toBeUndefined(); // a copy
      shm.close();
      expect(SharedMemory.of(xs)).toBeUndefined();
    } finally {
      other.close();
      shm.close().unlink();
    }
  });
});
