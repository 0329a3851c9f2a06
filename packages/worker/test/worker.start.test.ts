import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { listShm, python3, pythonHelperPath } from '@shmbridge/testkit';
import { PythonError, PythonWorker } from '@shmbridge/worker';
import { Output, alive, fixtures, interpreters, startWorker } from './helpers/start.js';

describe('PythonWorker.start', () => {
  it.each(interpreters().map((p) => [p.label, p] as const))('imports a module given as a file or as a dotted name from cwd (%s)', async (_label, interp) => {
    await using byFile = await startWorker(interp, 'plain.py');
    expect(await byFile.call('identity', ['file'])).toBe('file');
    await using byPath = await startWorker(interp, `${fixtures}pkg/model.py`.replace('model.py', 'helper.py'), { cwd: '/' });
    expect(await byPath.call('double', [21])).toBe(42);
    await using byName = await startWorker(interp, 'pkg.model');
    expect(await byName.call('predict', [4])).toBe(8);
  });

  it('imports the module once: its state survives across calls', async () => {
    await using w = await startWorker(python3(), 'plain.py');
    const [, , pid] = await w.call('count');
    expect(await w.call('count')).toEqual([2, 1, pid]);
    expect(await w.call('count')).toEqual([3, 1, pid]);
    expect(w.pid).toBe(pid);
  });

  it('rejects with the import traceback when the module raises at import', async () => {
    const before = listShm();
    const err = (await startWorker(python3(), 'broken_import.py').catch((e: unknown) => e)) as PythonError;
    expect(err).toBeInstanceOf(PythonError);
    expect(err).toMatchObject({ code: 'ERR_WORKER_START_FAILED', type: 'FileNotFoundError' });
    expect(err.message).toContain("could not import 'broken_import.py'");
    expect(err.traceback).toMatch(/broken_import\.py", line \d+, in load/);
    expect(err.traceback).toContain('weights.bin');
    expect(listShm()).toEqual(before); // the control block is gone too
  });

  it('rejects with ModuleNotFoundError for a module that does not exist, file or name', async () => {
    await expect(startWorker(python3(), 'no_such_model.py')).rejects.toMatchObject({ code: 'ERR_WORKER_START_FAILED', type: 'FileNotFoundError' });
    await expect(startWorker(python3(), 'no_such_package.model')).rejects.toMatchObject({ code: 'ERR_WORKER_START_FAILED', type: 'ModuleNotFoundError' });
  });

  it('rejects when the interpreter cannot run, or exits before it is ready (with the end of its stderr)', async () => {
    await expect(PythonWorker.start({ module: 'plain.py', cwd: fixtures, python: '/nonexistent/python3' })).rejects.toMatchObject({
      code: 'ERR_WORKER_START_FAILED', message: expect.stringContaining('ENOENT'),
    });
    // A CPython that cannot even initialise (no standard library where PYTHONHOME says).
    const err = await startWorker(python3(), 'plain.py', { env: { PYTHONHOME: '/nonexistent' } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WORKER_START_FAILED', message: expect.stringMatching(/exited with code 1 before it was ready[\s\S]*encodings/) });
    expect((err as { stderr: string }).stderr).toContain('encodings');
  });

  it('gives up after startTimeoutMs and leaves no process behind', async () => {
    const output = new Output();
    const started = Date.now();
    const err = await startWorker(python3(), 'slow_import.py', { startTimeoutMs: 1500, onOutput: output.handler }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WORKER_START_FAILED', message: expect.stringContaining('within 1500 ms') });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses bad options before starting anything', async () => {
    await expect(PythonWorker.start({} as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(PythonWorker.start({ module: 'plain.py', arrays: 'jax' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(PythonWorker.start({ module: 'plain.py', startTimeoutMs: -1 })).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    await expect(PythonWorker.start({ module: 'plain.py', onOutput: 'stderr' as never })).rejects.toBeInstanceOf(TypeError);
  });

  it('puts its own copy of the Python helper first on PYTHONPATH, after which the user\'s entries still work', async () => {
    await using w = await startWorker(python3(), 'plain.py', { env: { PYTHONPATH: `${fixtures}pkg` } });
    expect(await w.call('identity', [1])).toBe(1);
    await using x = await startWorker(python3(), 'helper', { env: { PYTHONPATH: `${fixtures}pkg` }, cwd: '/' });
    expect(await x.call('double', ['ab'])).toBe('abab');
  });

  it('shmbridge.worker run by hand (no channel from Node) exits with a message saying what it is for', () => {
    const r = spawnSync(python3().executable, ['-m', 'shmbridge.worker', 'plain.py'], { cwd: fixtures, encoding: 'utf8', env: { ...process.env, PYTHONPATH: pythonHelperPath } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("is started by Node's PythonWorker");
  });
});

describe('PythonWorker lifecycle', () => {
  it('close() lets calls in flight finish, refuses new ones, and the process exits 0', async () => {
    const w = await startWorker(python3(), 'plain.py');
    const slow = w.call('sleep', [0.3]);
    const queued = w.call('identity', ['after the slow one']);
    const closing = w.close();
    await expect(w.call('identity', [1])).rejects.toMatchObject({ code: 'ERR_WORKER_CLOSED' });
    expect(await slow).toBe(w.pid);
    expect(await queued).toBe('after the slow one');
    expect(await closing).toEqual({ code: 0, signal: null });
    expect(await w.exited).toEqual({ code: 0, signal: null });
    expect(alive(w.pid)).toBe(false);
    expect(await w.close()).toEqual({ code: 0, signal: null }); // idempotent
  });

  it('kill() ends the process now: calls in flight reject with ERR_WORKER_EXITED (SIGKILL)', async () => {
    const w = await startWorker(python3(), 'plain.py');
    const pending = w.call('sleep', [30]);
    await new Promise((r) => setTimeout(r, 100));
    w.kill();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED', signal: 'SIGKILL', exitCode: null });
    expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(w.call('identity', [1])).rejects.toMatchObject({ code: 'ERR_WORKER_CLOSED' });
  });

  it('await using closes it', async () => {
    let pid = 0;
    let exited: Promise<unknown> = Promise.resolve();
    {
      await using w = await startWorker(python3(), 'plain.py');
      pid = w.pid;
      exited = w.exited;
      expect(alive(pid)).toBe(true);
    }
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(alive(pid)).toBe(false);
  });
});
