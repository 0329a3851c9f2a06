import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { python3 } from '@shmbridge/testkit';
import { PythonError, PythonWorker } from '@shmbridge/worker';
import { interpreters, startWorker } from './helpers/start.js';

describe.each(interpreters().map((p) => [p.label, p] as const))('PythonWorker#call errors, %s', (_label, interp) => {
  let w: PythonWorker;
  beforeAll(async () => {
    w = await startWorker(interp, 'plain.py');
  });
  afterAll(async () => {
    await w.close();
  });

  it('rejects with a PythonError carrying the exception\'s type, message and traceback', async () => {
    const err = (await w.call('boom', ['negative size']).catch((e: unknown) => e)) as PythonError;
    expect(err).toBeInstanceOf(PythonError);
    expect(err).toMatchObject({ name: 'PythonError', code: 'ERR_PYTHON_EXCEPTION', type: 'ValueError', pythonMessage: 'negative size', message: 'ValueError: negative size' });
    expect(err.traceback).toMatch(/^Traceback \(most recent call last\):\n {2}File ".*plain\.py", line \d+, in boom\n/);
    expect(err.traceback.trimEnd().split('\n').pop()).toBe('ValueError: negative size');
    expect(err.traceback).not.toContain('_worker_server'); // the user's frames, not the worker's
  });

  it('names user exception classes and keeps chained causes in the traceback', async () => {
    const err = (await w.call('custom').catch((e: unknown) => e)) as PythonError;
    expect(err).toMatchObject({ type: 'CustomError', pythonMessage: 'wrapped' });
    expect(err.traceback).toContain("KeyError: 'missing'");
    expect(err.traceback).toContain('The above exception was the direct cause of the following exception');
  });

  it('rejects with ERR_WORKER_NO_SUCH_FUNCTION for a missing or non-callable name, and calls dotted attributes', async () => {
    await expect(w.call('nope')).rejects.toMatchObject({ code: 'ERR_WORKER_NO_SUCH_FUNCTION', message: "module 'plain' has no function 'nope'" });
    await expect(w.call('not_callable')).rejects.toMatchObject({ code: 'ERR_WORKER_NO_SUCH_FUNCTION', message: expect.stringContaining('is not callable (it is a list)') });
    await expect(w.call('model.nope')).rejects.toMatchObject({ code: 'ERR_WORKER_NO_SUCH_FUNCTION' });
    expect(await w.call('model.predict', [2])).toBe(6);
  });

  it('keeps serving after errors', async () => {
    await expect(w.call('boom')).rejects.toBeInstanceOf(PythonError);
    await expect(w.call('nope')).rejects.toMatchObject({ code: 'ERR_WORKER_NO_SUCH_FUNCTION' });
    expect(await w.call('identity', ['alive'])).toBe('alive');
  });

  it('raising worker.Cancelled in a call nobody cancelled is an ordinary exception', async () => {
    await expect(w.call('raise_cancelled')).rejects.toMatchObject({ code: 'ERR_PYTHON_EXCEPTION', type: 'Cancelled' });
    expect(await w.call('was_cancelled')).toBe(false);
  });
});

describe('PythonWorker message limits', () => {
  it('refuses arguments too large for a message before sending, and results too large with a PythonError', async () => {
    await using w = await startWorker(python3(), 'plain.py', { maxFrameBytes: 64 * 1024 });
    await expect(w.call('identity', ['x'.repeat(100_000)])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('maxFrameBytes') });
    await expect(w.call('huge_string', [100_000])).rejects.toMatchObject({ type: 'ValueError', message: expect.stringContaining('frame limit') });
    expect(await w.call('huge_string', [1000])).toBe('x'.repeat(1000));
    // Bytes travel in shared memory past 1 MiB, whatever the frame limit.
    expect((await w.call('identity', [Buffer.alloc(2 << 20, 1)])).length).toBe(2 << 20);
  });
});
