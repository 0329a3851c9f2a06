import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { entries, python3, runNode } from '@shmbridge/testkit';
import type { PythonWorker, Progress } from '@shmbridge/worker';
import { Output, fixtures, interpreters, startWorker } from './helpers/start.js';

describe.each(interpreters().map((p) => [p.label, p] as const))('PythonWorker output and progress, %s', (_label, interp) => {
  let w: PythonWorker;
  const output = new Output();
  beforeAll(async () => {
    w = await startWorker(interp, 'plain.py', { onOutput: output.handler });
  });
  afterAll(async () => {
    await w.close();
  });

  it('sends what print() writes to onOutput, never into the calls', async () => {
    expect(await w.call('chatty', [3])).toBe(3);
    expect(await w.call('identity', ['next call'])).toBe('next call');
    expect(output.stdout).toBe('line 0\nline 1\nline 2\nno newline');
    expect(output.stderr).toBe('to stderr\n');
  });

  it('keeps calls intact while the worker prints a megabyte', async () => {
    output.stdout = '';
    const results = await Promise.all([w.call('shout', [1 << 20]), w.call('identity', [[1, 2]]), w.call('shout', [10])]);
    expect(results).toEqual([1 << 20, [1, 2], 10]);
    await new Promise((r) => setTimeout(r, 50));
    expect(output.stdout).toBe('x'.repeat((1 << 20) + 10));
  });

  it('reports worker.progress to onProgress, in order, before the result', async () => {
    const seen: Progress[] = [];
    const result = await w.call('report', [3], {}, { onProgress: (p) => seen.push(p) });
    expect(result).toBe('done');
    expect(seen).toEqual([
      { current: 1, total: 3, message: 'step 1' },
      { current: 2, total: 3, message: 'step 2' },
      { current: 3, total: 3, message: 'step 3' },
    ]);
    const fromThread: Progress[] = [];
    expect(await w.call('report_from_thread', [], {}, { onProgress: (p) => fromThread.push(p) })).toBe('ok');
    expect(fromThread).toEqual([{ current: 1, total: null, message: 'from a thread' }]);
    expect(await w.call('report', [2])).toBe('done'); // no handler: progress is dropped
  });

  it('rejects bad progress arguments in Python, and a throwing onProgress fails only its call', async () => {
    await expect(w.call('bad_progress')).rejects.toMatchObject({ type: 'TypeError', message: expect.stringContaining('progress current must be a number') });
    const err = await w.call('report', [2], {}, { onProgress: () => { throw new RangeError('handler bug'); } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(await w.call('identity', ['fine'])).toBe('fine');
  });
});

describe('PythonWorker output by default', () => {
  it('goes to this process\'s stderr, stdout included', async () => {
    const r = await runNode(`
      const { PythonWorker } = await import(${JSON.stringify(entries.worker)});
      const w = await PythonWorker.start({ module: 'plain.py', cwd: ${JSON.stringify(fixtures)}, python: ${JSON.stringify(python3().executable)} });
      const n = await w.call('chatty', [2]);
      await w.close();
      console.log('result', n);
    `);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('result 2\n');
    expect(r.stderr).toBe('line 0\nline 1\nno newlineto stderr\n');
  });
});
