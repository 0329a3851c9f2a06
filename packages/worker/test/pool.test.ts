import { describe, expect, it } from '@jest/globals';
import { python, python3 } from '@shmbridge/testkit';
import { PythonError, WorkerPool } from '@shmbridge/worker';
import { alive, eventually, fixtures } from './helpers/start.js';

const options = { module: 'plain.py', cwd: fixtures, python: python3().executable, onOutput: () => {} };

describe('WorkerPool', () => {
  it('starts size workers and runs calls on them, on any CPython (3.8 here)', async () => {
    await using pool = await WorkerPool.start({ ...options, python: python(8).executable, size: 2 });
    expect(pool.size).toBe(2);
    expect(new Set(pool.pids).size).toBe(2);
    expect(await Promise.all([pool.call('identity', ['a']), pool.call('echo', [1], { k: 2 })])).toEqual(['a', [[1], { k: 2 }]]);
  });

  it('sends a call to the least busy worker', async () => {
    await using pool = await WorkerPool.start({ ...options, size: 2 });
    const slow = pool.call('sleep', [0.5]);
    await new Promise((r) => setTimeout(r, 50));
    const quick = await Promise.all([pool.call('pid'), pool.call('sleep', [0]), pool.call('pid')]);
    const slowPid = await slow;
    expect(quick.every((pid) => pid !== slowPid)).toBe(true);
  });

  it('refuses a call with ERR_WORKER_QUEUE_FULL once maxQueue calls wait, and takes calls again when it drains', async () => {
    await using pool = await WorkerPool.start({ ...options, size: 1, maxQueue: 2 });
    const running = pool.call('sleep', [0.3]);
    const queued = [pool.call('identity', [1]), pool.call('identity', [2])];
    expect([pool.active, pool.queued]).toEqual([1, 2]);
    await expect(pool.call('identity', [3])).rejects.toMatchObject({ code: 'ERR_WORKER_QUEUE_FULL', maxQueue: 2 });
    await running;
    expect(await Promise.all(queued)).toEqual([1, 2]);
    expect(await pool.call('identity', [4])).toBe(4);
  });

  it('replaces a worker that dies; its pending call rejects with ERR_WORKER_EXITED, the others carry on', async () => {
    await using pool = await WorkerPool.start({ ...options, size: 2 });
    const [a, b] = pool.pids as [number, number];
    const doomed = pool.call('sleep', [30]);
    await new Promise((r) => setTimeout(r, 100));
    const victim = (await pool.call('pid')) === a ? b : a; // the one busy with the long sleep
    process.kill(victim, 'SIGKILL');
    await expect(doomed).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED', signal: 'SIGKILL' });
    await eventually(() => pool.pids.length === 2 && !pool.pids.includes(victim), 10_000, 'a replacement worker');
    const pids = new Set(await Promise.all(Array.from({ length: 8 }, () => pool.call('sleep', [0.05]))));
    expect(pids.has(victim)).toBe(false);
    expect(pids.size).toBe(2);
  });

  it('close() lets queued calls finish, then closes every worker', async () => {
    const pool = await WorkerPool.start({ ...options, size: 1 });
    const pids = pool.pids;
    const calls = [pool.call('sleep', [0.1]), pool.call('identity', ['queued'])];
    const closed = pool.close();
    await expect(pool.call('identity', [1])).rejects.toMatchObject({ code: 'ERR_WORKER_CLOSED' });
    const [, queued] = await Promise.all(calls);
    expect(queued).toBe('queued');
    await closed;
    await eventually(() => pids.every((p) => !alive(p)), 5_000, 'the workers to exit');
  });

  it('kill() rejects queued calls with ERR_WORKER_CLOSED and running ones with ERR_WORKER_EXITED', async () => {
    const pool = await WorkerPool.start({ ...options, size: 1 });
    const running = pool.call('sleep', [30]).catch((e: unknown) => e);
    const queued = pool.call('identity', [1]).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    pool.kill();
    expect(await queued).toMatchObject({ code: 'ERR_WORKER_CLOSED' });
    expect(await running).toMatchObject({ code: 'ERR_WORKER_EXITED' });
  });

  it('fails to start when a worker cannot, leaving none running', async () => {
    const err = await WorkerPool.start({ ...options, module: 'broken_import.py', size: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PythonError);
    expect(err).toMatchObject({ code: 'ERR_WORKER_START_FAILED', type: 'FileNotFoundError' });
  });

  it('refuses bad options', async () => {
    await expect(WorkerPool.start({ ...options, size: 0 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(WorkerPool.start({ ...options, maxQueue: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
  });
});
