import { describe, expect, it } from '@jest/globals';
import { SharedMemoryManager } from '@shmbridge/python-compat';
import { Connection, answerChallenge, deliverChallenge } from '../src/manager/connection.js';

// One authenticated client sending a request built to be slow to decode must
// not stall the others: a 256 KiB int once froze every client for 57 s.
async function authed(smm: SharedMemoryManager): Promise<Connection> {
  const c = await Connection.connect(smm.address);
  await answerChallenge(c, smm.authkey);
  await deliverChallenge(c, smm.authkey);
  return c;
}

/** A request tuple (None, 'create', (INT,), {}) whose int is `n` bytes wide (LONG4), hand-assembled. */
function wideIntRequest(n: number): Buffer {
  const long4 = Buffer.alloc(5 + n, 0x7f);
  long4[0] = 0x8b; // LONG4
  long4.writeInt32LE(n, 1);
  return Buffer.concat([Buffer.from([0x80, 0x02, 0x4e]), Buffer.from('X\x06\x00\x00\x00create', 'latin1'), long4, Buffer.from([0x85, 0x7d, 0x87, 0x2e])]);
}

/** A request whose decoding copies a memoized 100k-item list into a set 5,000 times (protocol 2, within the 1 MiB frame cap). */
function amplifyingRequest(): Buffer {
  const items = Buffer.alloc(100_000 * 2);
  for (let i = 0; i < 100_000; i++) items.set([0x4b, i & 0x7f], 2 * i); // BININT1
  const list = Buffer.concat([Buffer.from([0x5d, 0x71, 0x00, 0x28]), items, Buffer.from([0x65])]); // EMPTY_LIST BINPUT 0 MARK … APPENDS
  const set = Buffer.from('cbuiltins\nset\nq\x01', 'latin1');
  const rebuild = Buffer.from([0x68, 0x01, 0x68, 0x00, 0x85, 0x52, 0x30]); // BINGET 1, BINGET 0, TUPLE1, REDUCE, POP
  return Buffer.concat([Buffer.from([0x80, 0x02]), list, set, Buffer.alloc(rebuild.length * 5_000).fill(rebuild), Buffer.from([0x4e, 0x2e])]);
}

describe('SharedMemoryManager under a hostile authenticated client', () => {
  for (const [what, bomb] of [['a 1 MiB int', () => wideIntRequest((1 << 20) - 64)], ['a request that copies its own memo over and over', amplifyingRequest]] as const) {
    it(`serves a second client within a second while decoding ${what}`, async () => {
      const smm = await SharedMemoryManager.start();
      try {
        const attacker = await authed(smm);
        const frame = bomb();
        expect(frame.length).toBeLessThan(1 << 20);
        attacker.sendBytes(frame);
        const reply = attacker.recvBytes();
        const started = Date.now();
        const segments = await smm.listSegments();
        expect(Date.now() - started).toBeLessThan(1000);
        expect(segments).toEqual([]);
        expect((await reply).toString('latin1')).toMatch(/#TRACEBACK[\s\S]*(wider than this reader accepts|copies far more than its own size)/);
        attacker.destroy();
      } finally {
        await smm.shutdown();
      }
    });
  }
});
