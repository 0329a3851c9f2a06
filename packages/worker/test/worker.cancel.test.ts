import { describe, expect, it } from '@jest/globals';
import { listShm, python3 } from '@shmbridge/testkit';
import { Tensor } from '@shmbridge/core';
import { WorkerPool } from '@shmbridge/worker';
import { alive, fixtures, interpreters, startWorker } from './helpers/start.js';

describe.each(interpreters().map((p) => [p.label, p] as const))('PythonWorker#call cancellation, %s', (_label, interp) => {
  it('rejects at once with an AbortError when the signal is already aborted, sending nothing', async () => {
    await using w = await startWorker(interp, 'plain.py');
    const ac = new AbortController();
    ac.abort(new Error('user gave up'));
    const err = await w.call('mark', ['never'], {}, { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: ac.signal.reason });
    expect(await w.call('ran')).toEqual([]);
  });

  it('asks first: a call that checks worker.cancelled() stops, and the worker lives on', async () => {
    await using w = await startWorker(interp, 'plain.py', { cancelGraceMs: 10_000 });
    const ac = new AbortController();
    const call = w.call('cooperative', [30], {}, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 100));
    const aborted = Date.now();
    ac.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(Date.now() - aborted).toBeLessThan(100); // rejected at the abort, not when Python stops
    expect(await w.call('cancelled_count')).toBe(1); // Python saw cancelled() and raised Cancelled
    expect(await w.call('was_cancelled')).toBe(false); // the next call is not cancelled
  });

  it('times out with ERR_WORKER_TIMEOUT and cancels the call the same way', async () => {
    await using w = await startWorker(interp, 'plain.py', { cancelGraceMs: 10_000 });
    const started = Date.now();
    await expect(w.call('cooperative', [30], {}, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ERR_WORKER_TIMEOUT', timeoutMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    expect(await w.call('cancelled_count')).toBe(1);
    expect(await w.call('identity', ['fine'])).toBe('fine');
  });

  it('never starts a call cancelled while it waited behind another', async () => {
    await using w = await startWorker(interp, 'plain.py');
    const ac = new AbortController();
    const first = w.call('sleep', [0.3]);
    const second = w.call('mark', ['second'], {}, { signal: ac.signal });
    const third = w.call('mark', ['third']);
    ac.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(await first).toBe(w.pid);
    expect(await third).toBe('third');
    expect(await w.call('ran')).toEqual(['third']);
  });

  it('kills the worker when a cancelled call runs on past cancelGraceMs; calls behind it reject ERR_WORKER_EXITED', async () => {
    const w = await startWorker(interp, 'plain.py', { cancelGraceMs: 300 });
    const before = listShm();
    const input = Buffer.alloc(2 << 20, 1); // over 1 MiB: copied into a block for the call, unlinked when the worker dies
    const stuck = w.call('stubborn', [30, input], {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    const behind = w.call('identity', ['behind']).catch((e: unknown) => e);
    expect(await stuck).toMatchObject({ code: 'ERR_WORKER_TIMEOUT' });
    expect(await behind).toMatchObject({ code: 'ERR_WORKER_EXITED', signal: 'SIGKILL', message: expect.stringContaining("cancelled call to 'stubborn' did not stop within 300 ms") });
    expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(alive(w.pid)).toBe(false);
    await expect(w.call('identity', [1])).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED' });
    expect(listShm()).toEqual(before);
  });
});

describe('WorkerPool cancellation', () => {
  it('recovers from a call killed after its grace period: the worker is replaced and calls go on', async () => {
    await using pool = await WorkerPool.start({ module: 'plain.py', cwd: fixtures, python: python3().executable, size: 2, cancelGraceMs: 200, onOutput: () => {} });
    const pids = pool.pids;
    using t = Tensor.create({ dtype: 'float32', shape: [4] });
    try {
      await expect(pool.call('stubborn', [30, t], {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_WORKER_TIMEOUT', timeoutMs: 100 });
      const deadline = Date.now() + 10_000;
      while (pool.pids.filter((p) => !pids.includes(p)).length < 1 || pool.pids.length < 2) {
        if (Date.now() > deadline) throw new Error(`no replacement worker: ${pool.pids}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(pool.pids.filter((p) => pids.includes(p))).toHaveLength(1);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.call('identity', [i])));
      expect(results).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      t.shm.unlink();
    }
  });

  it('removes an aborted or timed-out call from the queue without running it', async () => {
    await using pool = await WorkerPool.start({ module: 'plain.py', cwd: fixtures, python: python3().executable, size: 1, onOutput: () => {} });
    const busy = pool.call('sleep', [0.3]);
    const ac = new AbortController();
    const aborted = pool.call('mark', ['aborted'], {}, { signal: ac.signal });
    const timedOut = pool.call('mark', ['timed out'], {}, { timeoutMs: 50 });
    expect(pool.queued).toBe(2);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(timedOut).rejects.toMatchObject({ code: 'ERR_WORKER_TIMEOUT', timeoutMs: 50 });
    expect(pool.queued).toBe(0);
    await busy;
    expect(await pool.call('ran')).toEqual([]);
  });
});
