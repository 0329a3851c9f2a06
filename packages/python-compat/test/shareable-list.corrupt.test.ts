import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SharedMemory } from '@shmbridge/core';
import { ShareableList } from '@shmbridge/python-compat';
import { damage, exercise } from './helpers/corrupt.js';

function blockWith(bytes: Buffer): SharedMemory {
  const shm = SharedMemory.create(bytes.length, { track: false });
  shm.buf.set(bytes);
  return shm;
}

function validBytes(items: ConstructorParameters<typeof ShareableList>[0]): Buffer {
  const sl = new ShareableList(items);
  const b = Buffer.from(sl.shm.buf);
  sl.shm.close().unlink();
  return b;
}

describe('ShareableList on a corrupt or hostile block', () => {
  it('3,000 random corruptions: only values or coded errors, never an unchecked read', () => {
    const outcomes = { read: 0, refused: 0 };
    fc.assert(fc.property(damage, (d) => void outcomes[exercise(d)]++), { numRuns: 3000, seed: 20261125 });
    expect(outcomes.refused).toBeGreaterThan(500); // the corruptions really are caught…
    expect(outcomes.read).toBeGreaterThan(100); // …and harmless ones still read
  });

  it.each([
    ['a block smaller than the count', Buffer.alloc(4), 'smaller than the 8-byte item count'],
    ['a negative count', (() => { const b = validBytes([1, 2]); b.writeBigInt64LE(-1n, 0); return b; })(), 'item count -1'],
    ['a huge count', (() => { const b = validBytes([1, 2]); b.writeBigInt64LE(2n ** 62n, 0); return b; })(), 'does not fit'],
    ['an offset past the data area', (() => { const b = validBytes([1, 2]); b.writeBigInt64LE(10_000n, 16); return b; })(), 'runs past the data area'],
  ])('refuses %s at attach with ERR_SHM_CORRUPT naming the block', (_l, bytes, message) => {
    const shm = blockWith(bytes);
    try {
      let err: any;
      try {
        ShareableList.attach(shm.name);
      } catch (e) {
        err = e;
      }
      expect(err.code).toBe('ERR_SHM_CORRUPT');
      expect(err.message).toContain(`'${shm.name}'`);
      expect(err.message).toContain(message);
    } finally {
      shm.close().unlink();
    }
  });

  it('refuses an item whose format or back-transform code another process broke, and reads the others', () => {
    const bytes = validBytes(['abc', 7, 'xyz']);
    const formats = bytes.length - 3 - 3 * 8;
    bytes.write('99s\0\0\0\0\0', formats, 'latin1'); // longer than its 8-byte slot
    bytes[bytes.length - 1] = 9; // code 9 does not exist
    const shm = blockWith(bytes);
    try {
      const sl = ShareableList.attach(shm.name);
      expect(() => sl.get(0)).toThrow(/item 0 has format "99s".*8-byte slot/);
      expect(sl.get(1)).toBe(7);
      expect(() => sl.get(2)).toThrow(/item 2 has back-transform code 9/);
      sl.close();
    } finally {
      shm.close().unlink();
    }
  });
});
