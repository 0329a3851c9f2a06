/**
 * Handing a tensor to a Python worker: by name (shmbridge) vs piping the same
 * bytes (what people do without shared memory), both timed inside the Python
 * worker, interleaved in one run. Also: attaching is O(1) in the tensor's size.
 * Target (issue 5): hand-off ≥ 100x faster than the pipe.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Tensor } from '@shmbridge/core';
import { python3, pythonHelperPath } from '@shmbridge/testkit';
import { formatNs, measure } from '../lib/measure.js';
import { printTable, target } from '../lib/table.js';

const MiB = 1 << 20;
const SIZE = 256 * MiB;
const ROUNDS = 5;

// The worker: for each request line, either attach by name or read the bytes
// from stdin, then sum; it reports hand-off and first-sum times in ns.
const WORKER = `
import json, sys, time
import numpy as np, shmbridge
out = sys.stdout
for line in sys.stdin.buffer:
    req = json.loads(line)
    if req["mode"] == "shm":
        t0 = time.perf_counter_ns()
        a = shmbridge.ndarray(req["name"])
        t1 = time.perf_counter_ns()
    else:
        out.write("ready\\n"); out.flush()
        t0 = time.perf_counter_ns()
        data = sys.stdin.buffer.read(req["nbytes"])
        a = np.frombuffer(data, dtype=np.float32)
        t1 = time.perf_counter_ns()
    s = float(a.sum(dtype=np.float64))
    t2 = time.perf_counter_ns()
    del a
    out.write(json.dumps({"handoff": t1 - t0, "sum": t2 - t1, "total": s}) + "\\n"); out.flush()
`;

const tensor = Tensor.create({ dtype: 'float32', shape: [SIZE / 4] });
const py = spawn(python3().executable, ['-c', WORKER], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONPATH: pythonHelperPath } });
try {
  tensor.data.fill(0.5);
  const lines = (async function* () {
    let buf = '';
    for await (const chunk of py.stdout.setEncoding('utf8')) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  })();
  const next = async () => (await lines.next()).value as string;
  const send = (o: object) => py.stdin.write(`${JSON.stringify(o)}\n`);

  const shm: Array<{ handoff: number; sum: number }> = [];
  const pipe: Array<{ handoff: number; sum: number }> = [];
  const bytes = tensor.shm.view(Uint8Array, { offset: tensor.offset, length: SIZE });
  for (let r = 0; r < ROUNDS; r++) {
    send({ mode: 'shm', name: tensor.shm.name });
    const a = JSON.parse(await next());
    if (a.total !== SIZE / 8) throw new Error(`worker summed ${a.total}`);
    shm.push(a);
    send({ mode: 'pipe', nbytes: SIZE });
    await next(); // ready
    if (!py.stdin.write(bytes)) await once(py.stdin, 'drain');
    const b = JSON.parse(await next());
    if (b.total !== SIZE / 8) throw new Error(`worker summed ${b.total}`);
    pipe.push(b);
  }
  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const handoff = { shm: med(shm.map((x) => x.handoff)), pipe: med(pipe.map((x) => x.handoff)) };
  const sum = { shm: med(shm.map((x) => x.sum)), pipe: med(pipe.map((x) => x.sum)) };
  printTable(`256 MiB float32 tensor to a python3 worker (median of ${ROUNDS} interleaved rounds, timed in Python)`, ['', 'by name (shmbridge)', 'pipe', 'ratio'], [
    ['hand-off: attach vs receive the bytes', formatNs(handoff.shm), formatNs(handoff.pipe), `${(handoff.pipe / handoff.shm).toFixed(0)}x`],
    ['first full read (sum) after hand-off', formatNs(sum.shm), formatNs(sum.pipe), `${(sum.pipe / sum.shm).toFixed(2)}x`],
    ['hand-off + first sum', formatNs(handoff.shm + sum.shm), formatNs(handoff.pipe + sum.pipe), `${((handoff.pipe + sum.pipe) / (handoff.shm + sum.shm)).toFixed(1)}x`],
  ]);
  target('hand-off by name vs pipe', handoff.pipe / handoff.shm, 100);
} finally {
  py.stdin.end();
  tensor.close().shm.unlink();
}

// O(1) attach: Tensor.attach in Node and shmbridge.ndarray in Python, 1 MiB to 1 GiB.
const rows: string[][] = [];
const pyAttach: Record<string, number> = {};
const sizes = [1, 16, 256, 1024].map((m) => m * MiB);
const made = sizes.map((s) => Tensor.create({ dtype: 'uint8', shape: [s], populate: false, reserve: false }));
try {
  const r = spawn(python3().executable, ['-c', `
import json, sys, time, shmbridge
res = {}
for name in sys.argv[1:]:
    ts = []
    for i in range(200):
        t0 = time.perf_counter_ns(); a = shmbridge.ndarray(name); t1 = time.perf_counter_ns(); del a
        ts.append(t1 - t0)
    ts.sort(); res[name] = ts[len(ts) // 2]
print(json.dumps(res))
`, ...made.map((t) => t.shm.name)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PYTHONPATH: pythonHelperPath } });
  let out = '';
  for await (const c of r.stdout.setEncoding('utf8')) out += c;
  Object.assign(pyAttach, JSON.parse(out));
  made.forEach((t, i) => {
    // Attach alone, as on the Python side (the close is outside the clock), and attach + close:
    // munmap after the header page was read grows with the mapping's size in the kernel
    // (the C floor's attach + read + close does the same, bench/core/attach.bench.ts).
    const attachOnly: number[] = [];
    for (let k = 0; k < 220; k++) {
      const t0 = process.hrtime.bigint();
      const a = Tensor.attach(t.shm.name);
      const t1 = process.hrtime.bigint();
      a.close();
      if (k >= 20) attachOnly.push(Number(t1 - t0));
    }
    attachOnly.sort((x, y) => x - y);
    const withClose = measure(() => Tensor.attach(t.shm.name).close(), { samples: 200, warmup: 20 });
    rows.push([`${sizes[i]! / MiB} MiB`, formatNs(attachOnly[attachOnly.length >> 1]!), formatNs(withClose.median), formatNs(pyAttach[t.shm.name]!)]);
  });
} finally {
  for (const t of made) t.close().shm.unlink();
}
printTable('attach a tensor by name: O(1) in its size', ['size', 'Node Tensor.attach', 'Node Tensor.attach + close', 'Python shmbridge.ndarray'], rows);
