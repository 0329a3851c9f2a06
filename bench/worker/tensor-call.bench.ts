/**
 * Calls that move 64 MiB: one taking a float32 tensor and returning a
 * scalar, one returning a new 64 MiB array — against the empty call (their
 * cost must not grow with the data) and against sending the same bytes
 * through a pipe (what a worker without shared memory does). Alternating,
 * side by side, in one run.
 * Targets (issue 12): each ≤ 3x the empty call; each ≥ 100x faster than the pipe.
 */
import { Tensor } from '@shmbridge/core';
import { formatNs } from '../lib/measure.js';
import { ceiling, printTable, target } from '../lib/table.js';
import { RawPipe, alternate, percentiles, startBenchWorker } from '../lib/workers.js';

const MiB = 1 << 20;
const SIZE = 64 * MiB;
const N = SIZE / 4;
const ROUNDS = 300;
const PIPE_ROUNDS = 20;

const worker = await startBenchWorker();
const pipe = new RawPipe('pipe_worker.py');
const input = Tensor.create({ dtype: 'float32', shape: [N] });
try {
  input.data.fill(1);
  const bytes = input.shm.view(Uint8Array, { offset: input.offset, length: SIZE });
  const sendHeader = Buffer.from([0x73, 0, 0, 0, 0]);
  sendHeader.writeUInt32LE(SIZE, 1);
  const receiveHeader = Buffer.from([0x72, 0, 0, 0, 0]);
  receiveHeader.writeUInt32LE(SIZE, 1);
  // Check every side computes what it should before timing it.
  if ((await worker.call('first', [input])) !== 1) throw new Error('bench: first(x) is not 1');
  const probe: Tensor<'float32'> = await worker.call('new_array', [N]);
  if (probe.size !== N) throw new Error('bench: new_array has the wrong size');
  probe.close();
  if ((await pipe.request([sendHeader, bytes], 8)).readDoubleLE(0) !== N) throw new Error('bench: the pipe worker summed wrong');

  // The calls, side by side with the empty call (nothing in between to clean up after).
  const calls = await alternate(ROUNDS, 10, {
    empty: () => worker.call('empty'),
    tensorIn: () => worker.call('first', [input]),
    arrayOut: async () => (await worker.call('new_array', [N])).close(),
  });
  // What moves 64 MiB of bytes, side by side; each leaves 64 MiB to free, which
  // is collected and given time to go before the next one, outside the clock.
  const bulk = await alternate(PIPE_ROUNDS, 2, {
    heapArrayOut: async () => (await worker.call('heap_array', [N])).close(),
    pipeIn: () => pipe.request([sendHeader, bytes], 8),
    pipeOut: () => pipe.request(receiveHeader, SIZE),
  }, 30);
  const p = Object.fromEntries(Object.entries({ ...calls, ...bulk }).map(([k, v]) => [k, percentiles(v as number[])])) as Record<keyof typeof calls | keyof typeof bulk, { p50: number; p90: number }>;
  const row = (label: string, k: keyof typeof p, vsEmpty: boolean, pipeKey?: keyof typeof p) => [
    label, formatNs(p[k].p50), formatNs(p[k].p90), vsEmpty ? `${(p[k].p50 / p.empty.p50).toFixed(2)}x` : '', pipeKey ? `${(p[pipeKey].p50 / p[k].p50).toFixed(0)}x faster` : '',
  ];
  printTable(`64 MiB float32 to and from a python3 worker (calls: ${ROUNDS} of each, alternating; bulk: ${PIPE_ROUNDS} of each, alternating)`, ['call', 'p50', 'p90', 'p50 / empty call', 'vs the pipe'], [
    row('empty call', 'empty', true),
    row('64 MiB tensor in, scalar out (by name)', 'tensorIn', true, 'pipeIn'),
    row('new 64 MiB array out (worker.zeros, by name)', 'arrayOut', true, 'pipeOut'),
    row('64 MiB heap array out (copied into a block)', 'heapArrayOut', true, 'pipeOut'),
    row('pipe: 64 MiB in, 8 bytes back', 'pipeIn', false),
    row('pipe: 5 bytes in, 64 MiB back', 'pipeOut', false),
  ]);
  ceiling('64 MiB tensor in, scalar out / empty call (p50)', p.tensorIn.p50 / p.empty.p50, 3);
  ceiling('new 64 MiB array out / empty call (p50)', p.arrayOut.p50 / p.empty.p50, 3);
  target('64 MiB tensor in: pipe / shmbridge (p50)', p.pipeIn.p50 / p.tensorIn.p50, 100);
  target('new 64 MiB array out: pipe / shmbridge (p50)', p.pipeOut.p50 / p.arrayOut.p50, 100);
} finally {
  input.close().shm.unlink();
  await Promise.all([worker.close(), pipe.close()]);
}
