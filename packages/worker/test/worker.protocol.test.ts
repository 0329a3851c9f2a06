import { describe, expect, it } from '@jest/globals';
import { listShm, python3 } from '@shmbridge/testkit';
import { alive, startWorker } from './helpers/start.js';

describe('PythonWorker protocol checks (frames from Python)', () => {
  it.each([
    ['garbage', 'unknown frame type 0xee'],
    ['oversized', 'a frame of 2147483632 bytes (the limit is 1 to 67108864)'],
    ['wrong_id', 'a reply to call 999999'],
  ])('a %s frame kills that worker with ERR_WORKER_PROTOCOL on its pending calls; this process goes on', async (fn, why) => {
    const before = listShm();
    const w = await startWorker(python3(), 'protocol.py');
    const first = w.call(fn).catch((e: unknown) => e);
    const second = w.call('ok').catch((e: unknown) => e);
    for (const err of [await first, await second]) {
      expect(err).toMatchObject({ code: 'ERR_WORKER_PROTOCOL', signal: 'SIGKILL', message: expect.stringContaining(why) });
    }
    expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(w.pid)).toBe(false);
    await expect(w.call('ok')).rejects.toMatchObject({ code: 'ERR_WORKER_PROTOCOL' });
    expect(listShm()).toEqual(before);
  });

  it('a FATAL frame (Python refused a frame from Node) rejects pending calls with what Python said', async () => {
    const w = await startWorker(python3(), 'protocol.py');
    const err = await w.call('fatal').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WORKER_PROTOCOL', exitCode: 3, message: expect.stringContaining('the worker refused a frame from Node: a test says this frame was bad') });
  });
});
