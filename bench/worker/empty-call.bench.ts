/**
 * An empty call's round trip: PythonWorker (`w.call('empty')`, a Python
 * function returning None) against the floor — a raw pipe ping-pong to a
 * Python process that os.read()s and os.write()s the same 16 bytes back — and
 * against python-shell in JSON mode. Single calls, alternating side by side
 * (this VM's wake-up latency swings 17–130 µs between runs: only ratios of
 * samples taken together mean anything).
 * Targets (issue 12): p50 ≤ 2x the raw pipe; python-shell's p50 ≥ 4x ours.
 */
import { formatNs } from '../lib/measure.js';
import { ceiling, printTable, target } from '../lib/table.js';
import { JsonShell, RawPipe, alternate, percentiles, startBenchWorker } from '../lib/workers.js';

const ROUNDS = 1000;
const ping = Buffer.alloc(16, 1);

const pipe = new RawPipe('echo_worker.py');
const worker = await startBenchWorker();
const shell = new JsonShell();
try {
  if ((await worker.call('empty')) !== null || (await shell.call('empty')) !== null) throw new Error('bench: empty() did not return None');
  const samples = await alternate(ROUNDS, 100, {
    pipe: () => pipe.request(ping, ping.length),
    shmbridge: () => worker.call('empty'),
    'python-shell': () => shell.call('empty'),
  });
  const p = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, percentiles(v as number[])])) as Record<keyof typeof samples, { p50: number; p90: number }>;
  printTable(`empty call round trip, ${ROUNDS} of each, alternating (python3)`, ['side', 'p50', 'p90', 'p50 / raw pipe'], [
    ['raw pipe ping-pong (os.read + os.write)', formatNs(p.pipe.p50), formatNs(p.pipe.p90), '1.00x'],
    ['shmbridge PythonWorker.call', formatNs(p.shmbridge.p50), formatNs(p.shmbridge.p90), `${(p.shmbridge.p50 / p.pipe.p50).toFixed(2)}x`],
    ['python-shell (JSON lines)', formatNs(p['python-shell'].p50), formatNs(p['python-shell'].p90), `${(p['python-shell'].p50 / p.pipe.p50).toFixed(2)}x`],
  ]);
  ceiling('empty call p50 / raw pipe ping-pong p50', p.shmbridge.p50 / p.pipe.p50, 2);
  target('empty call: python-shell p50 / shmbridge p50', p['python-shell'].p50 / p.shmbridge.p50, 4);
} finally {
  await Promise.all([pipe.close(), worker.close(), shell.close()]);
}
