/**
 * Against python-shell (npm, JSON mode: what most Node users pick today),
 * on the same python3, alternating side by side:
 *  - handing 1 MiB and 16 MiB of float32 to a Python function that reads one
 *    element (the payload's cost, not the function's): a Tensor by name
 *    (shmbridge) vs a JSON list (python-shell, which must parse all of it);
 *    a plain Float32Array (copied once into a block for the call) shown too;
 *    and the same with a function that sums every element (numpy's work,
 *    the same on both sides, then dominates ours);
 *  - small calls pipelined, 64 in flight: calls per second.
 * Targets (issue 12): payloads ≥ 1,000x faster; pipelined calls ≥ 2x python-shell's calls/s.
 * (The empty call against python-shell is in empty-call.bench.ts.)
 */
import { Tensor } from '@shmbridge/core';
import { formatNs } from '../lib/measure.js';
import { printTable, target } from '../lib/table.js';
import { JsonShell, alternate, percentiles, startBenchWorker } from '../lib/workers.js';

const MiB = 1 << 20;
const worker = await startBenchWorker();
const shell = new JsonShell();
try {
  const rows: string[][] = [];
  const ratios: Array<[string, number]> = [];
  for (const size of [1 * MiB, 16 * MiB]) {
    const n = size / 4;
    const t = Tensor.create({ dtype: 'float32', shape: [n] });
    try {
      for (let i = 0; i < n; i++) t.data[i] = (i % 7) * 0.5;
      const list = Array.from(t.data);
      const copy = Float32Array.from(t.data);
      for (const fn of ['first', 'total']) {
        const expected = await shell.call(fn, [list]);
        for (const got of [await worker.call(fn, [t]), await worker.call(fn, [copy])]) {
          if (got !== expected) throw new Error(`bench: ${fn} differs (${got} vs ${expected})`);
        }
      }
      for (const fn of ['first', 'total']) {
        // Ours side by side; python-shell's JSON (tens of MB of garbage a call) collected outside the clock.
        const s = await alternate(50, 5, { tensor: () => worker.call(fn, [t]), empty: () => worker.call('empty') });
        const c = await alternate(20, 2, { typedArray: () => worker.call(fn, [copy]) }, 1);
        const js = await alternate(size > MiB ? 3 : 10, 1, { pythonShell: () => shell.call(fn, [list]) }, 1);
        const p = { tensor: percentiles(s.tensor), empty: percentiles(s.empty), typedArray: percentiles(c.typedArray), pythonShell: percentiles(js.pythonShell) };
        const label = `${size / MiB} MiB, ${fn === 'first' ? 'read x[0]' : 'sum x'}`;
        rows.push([`${label}: Tensor, by name`, formatNs(p.tensor.p50), formatNs(p.tensor.p90), `${(p.pythonShell.p50 / p.tensor.p50).toFixed(0)}x faster`]);
        rows.push([`${label}: Float32Array, copied into a block`, formatNs(p.typedArray.p50), formatNs(p.typedArray.p90), `${(p.pythonShell.p50 / p.typedArray.p50).toFixed(0)}x faster`]);
        rows.push([`${label}: python-shell, JSON list`, formatNs(p.pythonShell.p50), formatNs(p.pythonShell.p90), '']);
        if (fn === 'first') rows.push([`(the empty call, alongside the Tensor call)`, formatNs(p.empty.p50), formatNs(p.empty.p90), `${(p.pythonShell.p50 / p.empty.p50).toFixed(0)}x`]);
        if (fn === 'first') ratios.push([`${size / MiB} MiB of float32 handed to Python: python-shell / shmbridge Tensor (p50)`, p.pythonShell.p50 / p.tensor.p50]);
      }
    } finally {
      t.close().shm.unlink();
    }
  }
  printTable(`float32 payloads to a python3 function (alternating)`, ['call', 'p50', 'p90', 'vs python-shell'], rows);
  for (const [label, r] of ratios) target(label, r, 1000);

  // Pipelined: 64 calls in flight at all times, for about a second per side, alternating.
  const lanes = (call: () => Promise<unknown>) => async () => {
    let done = 0;
    const end = performance.now() + 1000;
    const lane = async () => {
      while (performance.now() < end) {
        await call();
        done++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));
    return done;
  };
  const rates: Record<'shmbridge' | 'pythonShell', number[]> = { shmbridge: [], pythonShell: [] };
  const sides = { shmbridge: lanes(() => worker.call('empty')), pythonShell: lanes(() => shell.call('empty')) };
  for (let round = 0; round < 6; round++) {
    for (const k of ['shmbridge', 'pythonShell'] as const) {
      const t0 = performance.now();
      const done = await sides[k]();
      if (round > 0) rates[k].push(done / ((performance.now() - t0) / 1000));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const ours = median(rates.shmbridge);
  const theirs = median(rates.pythonShell);
  printTable('small calls pipelined, 64 in flight (median of 5 alternating 1 s rounds)', ['side', 'calls/s'], [
    ['shmbridge PythonWorker', Math.round(ours).toLocaleString('en')],
    ['python-shell (JSON lines)', Math.round(theirs).toLocaleString('en')],
  ]);
  target('pipelined small calls: shmbridge calls/s / python-shell calls/s', ours / theirs, 2);
} finally {
  await Promise.all([worker.close(), shell.close()]);
}
