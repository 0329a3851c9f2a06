import { describe, expect, it } from '@jest/globals';
import { Worker } from 'node:worker_threads';
import { pack, unpack } from 'msgpackr';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { MSGPACK_TYPES, ShareableList, fromHandle, registerMsgpackExtensions } from '@shmbridge/python-compat';
import { createsNoBlock, entries } from '@shmbridge/testkit';

describe('JSON handles', () => {
  it('revive each kind from JSON text', () => {
    const shm = SharedMemory.create(16);
    const sl = new ShareableList([1, 'two']);
    const t = Tensor.create({ dtype: 'int32', shape: [2] });
    try {
      const revived = [shm, sl, t].map((o) => fromHandle(JSON.parse(JSON.stringify(o))));
      expect(revived[0]).toBeInstanceOf(SharedMemory);
      expect(revived[1]).toBeInstanceOf(ShareableList);
      expect(revived[2]).toBeInstanceOf(Tensor);
      expect((revived[1] as ShareableList).toArray()).toEqual([1, 'two']);
      expect((revived[2] as Tensor).handle).toEqual(t.handle);
      for (const r of revived) r.close();
    } finally {
      shm.close().unlink();
      sl.shm.close().unlink();
      t.close().shm.unlink();
    }
  });

  it.each([
    [null, 'Invalid ShareableList handle'],
    ['psm_x', 'Invalid ShareableList handle'],
    [{ name: 5 }, 'Invalid ShareableList handle at name'],
    [{ name: 'a/b' }, "must not contain '/'"],
    [{ name: 'x', size: -1 }, 'Invalid SharedMemory handle at size'],
    [{ name: 'x', size: 1.5 }, 'Invalid SharedMemory handle at size'],
    [{ name: 'x', dtype: '<f4', shape: 'no' }, 'Invalid tensor handle at shape'],
  ])('refuses %j before any syscall', (handle, message) => {
    expect(createsNoBlock(() => {
      expect(() => fromHandle(handle)).toThrow(message);
    })).toBe(true);
  });

  it('refuses a SharedMemory handle larger than the block it names', () => {
    const shm = SharedMemory.create(8);
    try {
      expect(() => fromHandle({ name: shm.name, size: 9 })).toThrow(/has 8 bytes, the handle says 9/);
    } finally {
      shm.close().unlink();
    }
  });
});

describe('msgpackr extensions', () => {
  it('send SharedMemory, ShareableList and Tensor as handles and decode them attached', () => {
    registerMsgpackExtensions();
    registerMsgpackExtensions(); // idempotent
    const shm = SharedMemory.create(16);
    const sl = new ShareableList(['x']);
    const t = Tensor.create({ dtype: 'float64', shape: [3] });
    try {
      const packed = pack({ job: 7, blocks: [shm, sl, t] });
      // The message carries handles, not memory: it is small.
      expect(packed.length).toBeLessThan(200);
      expect(packed.includes(MSGPACK_TYPES.Tensor)).toBe(true);
      const msg = unpack(packed) as { job: number; blocks: [SharedMemory, ShareableList, Tensor] };
      const [a, b, c] = msg.blocks;
      expect(msg.job).toBe(7);
      a.buf[0] = 9;
      expect(shm.buf[0]).toBe(9);
      expect(b.get(0)).toBe('x');
      c.data[2] = 2.5;
      expect(t.data[2]).toBe(2.5);
      for (const o of msg.blocks) o.close();
    } finally {
      shm.close().unlink();
      sl.shm.close().unlink();
      t.close().shm.unlink();
    }
  });
});

describe('worker_threads', () => {
  it('a block, a list and a tensor posted as handles arrive usable in a worker (one line: fromHandle(handle))', async () => {
    const shm = SharedMemory.create(8);
    const sl = new ShareableList([0, 'zero']);
    const t = Tensor.create({ dtype: 'uint8', shape: [4] });
    try {
      const code = `
        const { parentPort, workerData } = require('node:worker_threads');
        import(${JSON.stringify(entries.pythonCompat)}).then(({ fromHandle }) => {
          const [shm, sl, t] = workerData.map(fromHandle);
          shm.buf[0] = 42; sl.set(0, 43); t.data[3] = 44;
          for (const o of [shm, sl, t]) o.close();
          parentPort.postMessage('done');
        });`;
      const worker = new Worker(code, { eval: true, workerData: [shm.toJSON(), sl.toJSON(), t.toJSON()] });
      const reply = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
      await worker.terminate();
      expect(reply).toBe('done');
      expect([shm.buf[0], sl.get(0), t.data[3]]).toEqual([42, 43, 44]);
    } finally {
      shm.close().unlink();
      sl.shm.close().unlink();
      t.close().shm.unlink();
    }
  });
});
