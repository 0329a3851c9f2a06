import { describe, expect, it } from '@jest/globals';
import { runExample } from './run-example.js';

describe('worker examples', () => {
  it('numpy-worker.ts: one long-lived worker, model loaded once, many calls, progress and a cancelled call', () => {
    const r = runExample('numpy-worker.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.match(/loading the model/g)).toHaveLength(1);
    expect(r.stdout).toContain('unit rows, computed by numpy in Node\'s tensor:\n        0.600 0.800 0.000\n        0.577 0.577 0.577\n        0.000 0.000 1.000\n        0.600 0.800 0.000');
    // x @ W with W = [[1, 0], [0, 1], [1, -1]] for the 4 unit rows
    expect(r.stdout).toMatch(/1000 predictions by the same worker \(\d+ µs each\), last: \[0\.600, 0\.800, 1\.155, 0\.000, 1\.000, -1\.000, 0\.600, 0\.800\]/);
    expect(r.stdout).toContain('node:   progress 1/3 epoch 1\nnode:   progress 2/3 epoch 2\nnode:   progress 3/3 epoch 3\nnode:   trained: {"epochs":3,"loss":0.3333}');
    expect(r.stdout).toContain('node:   long training: AbortError (ABORT_ERR)');
    expect(r.stdout).toMatch(/python: training cancelled at epoch \d+/);
    expect(r.stdout).not.toContain('progress 3/1000'); // settled at the abort: later progress is not reported
    expect(r.stdout).toContain('node:   the worker is still serving: {"epochs":1,"loss":1}');
  });

  it('worker-pool.ts: two workers share the calls, and a burst beyond the queue is refused', () => {
    const r = runExample('worker-pool.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('node:   largest eigenvalues: 1, 4, 9, 16, 25, 36, 49, 64\nnode:   computed by 2 workers');
    expect(r.stdout).toContain('node:   burst of 10: 8 done, 2 refused (ERR_WORKER_QUEUE_FULL)');
  });
});
