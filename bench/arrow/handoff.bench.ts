/**
 * Handing an Arrow table to a Python worker: by name (shareTable, then
 * shmbridge.table in Python) vs piping the same IPC stream bytes (what people
 * do without shared memory), both timed inside the Python worker, interleaved
 * in one run. Two tables: 1 GiB of float64 (4 columns × 32M rows) and a
 * 10M-row utf8 column. The first full pass over a column after the hand-off
 * is reported on its own row: attaching maps the block without touching it,
 * so the page faults move from the hand-off to that first pass.
 * Target (issue): hand-off ≥ 50x faster than the pipe.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as A from 'apache-arrow';
import { shareTable } from '@shmbridge/arrow';
import type { SharedMemory } from '@shmbridge/core';
import { python3, pythonHelperPath } from '@shmbridge/testkit';
import { formatNs } from '../lib/measure.js';
import { printTable, target } from '../lib/table.js';

const MiB = 1 << 20;
const NUM_COLUMNS = 4;
const NUM_ROWS = 32 * MiB; // 4 float64 columns × 32M rows = 1 GiB of values
const STR_ROWS = 10_000_000;
const ROUNDS = 5;

// The worker: for each request line, either attach by name or receive the
// stream over stdin and open it, then make one full pass over a column — a
// float64 sum, or for strings the sum of utf8_length, which decodes every
// byte (binary_length would read only the offsets). It reports hand-off and
// first-pass times in ns, and the value for Node to check.
//
// The pipe side gets its best case: one receive buffer, allocated and
// zero-filled at startup (so its pages are mapped) and reused every round,
// filled with readinto (no intermediate copies); pyarrow then reads the
// stream in place from it, as it reads the block in place on the shm side.
const WORKER = `
import json, sys, time
import pyarrow as pa, pyarrow.compute as pc, shmbridge
ns = time.perf_counter_ns
inp, out = sys.stdin.buffer, sys.stdout
recv = memoryview(bytearray(int(sys.argv[1])))
while True:
    line = inp.readline()
    if not line:
        break
    req = json.loads(line)
    if req["mode"] == "shm":
        t0 = ns()
        t = shmbridge.table(req["name"])
        t1 = ns()
    else:
        n = req["nbytes"]
        out.write("ready\\n"); out.flush()
        t0 = ns()
        got = 0
        while got < n:
            k = inp.readinto(recv[got:n])
            if not k:
                raise EOFError("pipe closed after %d of %d bytes" % (got, n))
            got += k
        t = pa.ipc.open_stream(pa.py_buffer(recv[:n])).read_all()
        t1 = ns()
    col = t.column(req["column"])
    v = pc.sum(col if req["kind"] == "num" else pc.utf8_length(col)).as_py()
    t2 = ns()
    rows = t.num_rows
    del t, col  # release the mapping (shm) / the receive buffer (pipe) before the next round
    out.write(json.dumps({"handoff": t1 - t0, "sum": t2 - t1, "value": v, "rows": rows}) + "\\n"); out.flush()
`;

interface Shared {
  shm: SharedMemory;
  label: string;
  kind: 'num' | 'str';
  column: string;
  rows: number;
  /** What the worker's first pass must return, computed here from the data shared. */
  expected: number;
}

/**
 * 1 GiB of float64. Values are multiples of 0.25 below 250, so every partial
 * sum is exact in a double: the worker's sum (pairwise, any order) must equal
 * Node's exactly. Each column is a 64K-value pattern doubled with copyWithin
 * (memcpy) rather than 32M JS stores.
 */
function shareNumeric(): Shared {
  const PERIOD = 1 << 16;
  const columns: Record<string, A.Vector<A.Float64>> = {};
  let expected = 0;
  for (let c = 0; c < NUM_COLUMNS; c++) {
    const values = new Float64Array(NUM_ROWS);
    for (let i = 0; i < PERIOD; i++) values[i] = ((i * 7919 + c * 104_729) % 1000) * 0.25;
    for (let n = PERIOD; n < NUM_ROWS; n *= 2) values.copyWithin(n, 0, Math.min(n, NUM_ROWS - n));
    if (c === 0) for (let i = 0; i < NUM_ROWS; i++) expected += values[i]!;
    columns[`c${c}`] = A.makeVector(values);
  }
  const { shm } = shareTable(new A.Table(columns));
  return { shm, label: `${NUM_COLUMNS} float64 columns × ${NUM_ROWS / MiB}M rows`, kind: 'num', column: 'c0', rows: NUM_ROWS, expected };
}

/**
 * 10M short utf8 strings, `itém-<i>`: offsets and bytes written directly (no
 * 10M JS strings). The é is 2 bytes and 1 code point, so the expected
 * utf8_length total (code points) differs from the byte count: the worker
 * must really decode the bytes it was handed to get it right.
 */
function shareStrings(): Shared {
  const prefix = new TextEncoder().encode('itém-');
  const prefixChars = 5;
  const offsets = new Int32Array(STR_ROWS + 1);
  const data = new Uint8Array(STR_ROWS * (prefix.length + 7)); // i < 10^7: at most 7 digits
  const digits = new Uint8Array(8);
  let pos = 0;
  let expected = 0;
  for (let i = 0; i < STR_ROWS; i++) {
    data.set(prefix, pos);
    pos += prefix.length;
    let nd = 0;
    let x = i;
    do {
      digits[nd++] = 48 + (x % 10);
      x = Math.floor(x / 10);
    } while (x > 0);
    while (nd > 0) data[pos++] = digits[--nd]!;
    offsets[i + 1] = pos;
    expected += prefixChars + (offsets[i + 1]! - offsets[i]! - prefix.length);
  }
  const strings = A.makeData({ type: new A.Utf8(), length: STR_ROWS, nullCount: 0, valueOffsets: offsets, data: data.subarray(0, pos) });
  const { shm } = shareTable(new A.Table({ s: A.makeVector(strings) }));
  return { shm, label: `utf8 column × ${STR_ROWS / 1e6}M rows`, kind: 'str', column: 's', rows: STR_ROWS, expected };
}

const gc = (globalThis as { gc?: () => void }).gc;
const tables: Shared[] = [];
let py: ReturnType<typeof spawn> | undefined;
try {
  // Built one at a time, the source arrays collected in between, so peak use stays ~3 GiB.
  tables.push(shareNumeric());
  gc?.();
  tables.push(shareStrings());
  gc?.();

  const largest = Math.max(...tables.map((t) => t.shm.size));
  const worker = spawn(python3().executable, ['-c', WORKER, String(largest)], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PYTHONPATH: pythonHelperPath } });
  py = worker;
  const lines = (async function* () {
    let buf = '';
    for await (const chunk of worker.stdout.setEncoding('utf8')) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        yield buf.slice(0, i);
        buf = buf.slice(i + 1);
      }
    }
  })();
  const next = async () => {
    const line = (await lines.next()).value as string | undefined;
    if (line === undefined) throw new Error('python worker exited');
    return line;
  };
  const send = (o: object) => worker.stdin.write(`${JSON.stringify(o)}\n`);
  type Result = { handoff: number; sum: number; value: number; rows: number };
  const check = (t: Shared, mode: string, r: Result): Result => {
    if (r.value !== t.expected || r.rows !== t.rows) throw new Error(`${t.label} (${mode}): worker got ${r.rows} rows, first pass ${r.value}; expected ${t.rows} rows, ${t.expected}`);
    return r;
  };

  const results = tables.map(() => ({ shm: [] as Result[], pipe: [] as Result[] }));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, t] of tables.entries()) {
      send({ mode: 'shm', name: t.shm.name, kind: t.kind, column: t.column });
      results[k]!.shm.push(check(t, 'shm', JSON.parse(await next())));
      // The same bytes the block holds: shareTable's block is exactly the IPC stream.
      send({ mode: 'pipe', nbytes: t.shm.size, kind: t.kind, column: t.column });
      await next(); // ready
      if (!worker.stdin.write(t.shm.view(Uint8Array))) await once(worker.stdin, 'drain');
      results[k]!.pipe.push(check(t, 'pipe', JSON.parse(await next())));
    }
  }

  const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const ratios: number[] = [];
  const rows: string[][] = [];
  for (const [k, t] of tables.entries()) {
    const { shm, pipe } = results[k]!;
    const handoff = { shm: med(shm.map((x) => x.handoff)), pipe: med(pipe.map((x) => x.handoff)) };
    const sum = { shm: med(shm.map((x) => x.sum)), pipe: med(pipe.map((x) => x.sum)) };
    const total = { shm: med(shm.map((x) => x.handoff + x.sum)), pipe: med(pipe.map((x) => x.handoff + x.sum)) };
    const pass = t.kind === 'num' ? `pc.sum(${t.column})` : `pc.sum(pc.utf8_length(${t.column}))`;
    ratios.push(handoff.pipe / handoff.shm);
    rows.push(
      [`${t.label}, ${(t.shm.size / MiB).toFixed(0)} MiB stream`, '', '', ''],
      ['  hand-off: attach vs receive + open', formatNs(handoff.shm), formatNs(handoff.pipe), `${(handoff.pipe / handoff.shm).toFixed(0)}x`],
      [`  first full pass: ${pass}`, formatNs(sum.shm), formatNs(sum.pipe), `${(sum.pipe / sum.shm).toFixed(2)}x`],
      ['  hand-off + first pass', formatNs(total.shm), formatNs(total.pipe), `${(total.pipe / total.shm).toFixed(1)}x`],
    );
  }
  printTable(`Arrow tables to a python3 worker (median of ${ROUNDS} interleaved rounds, timed in Python)`, ['', 'by name (shmbridge)', 'pipe', 'ratio'], rows);
  for (const [k, t] of tables.entries()) target(`${t.label} hand-off by name vs pipe`, ratios[k]!, 50);
} finally {
  py?.stdin?.end();
  py?.kill();
  for (const t of tables) t.shm.close().unlink();
}
