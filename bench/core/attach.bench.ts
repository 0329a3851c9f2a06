/**
 * attach by name + read one byte through `buf` + close, at 4 KiB, 64 MiB and
 * 1 GiB, in interleaved rounds: shmbridge, CPython 3.13's SharedMemory
 * (`track=False`, so its resource tracker stays out of it), the C floor and
 * the N-API floor. Then the garbage collections each Node side causes.
 *
 * Why the N-API floor matters: V8 charges every external ArrayBuffer to its
 * external-memory budget, and from 64 MiB on each new wrap starts GC work (a
 * full mark-compact per attach, measured on this machine). shmbridge wraps
 * mappings in backing stores V8 does not charge (packages/core/native/addon.cc,
 * Map), so a 1 GiB attach should cost what a 4 KiB one does and run no GC.
 * Targets (issue 3): faster than CPython at every size; within 1.25x of the N-API floor.
 */
import { SharedMemory } from '@shmbridge/core';
import { GiB, KiB, MiB, ok, type Case } from '../lib/cases.js';
import { napiFloor, runCFloor } from '../lib/floors.js';
import { countGc, formatGc } from '../lib/gc.js';
import { interleaved, measure, type Stats } from '../lib/measure.js';
import { cpython313, PY_TIMING, timePython } from '../lib/python.js';
import { ceiling, formatBytes, printComparison, printTable, target } from '../lib/table.js';

const ROUNDS = 5;
const GC_OPS = 200;
const sizes = [4 * KiB, 64 * MiB, GiB];

const CPYTHON = `${PY_TIMING}
from multiprocessing import shared_memory
res = {}
for c in json.loads(sys.argv[1]):
    name = c["name"]
    def op(i):
        s = shared_memory.SharedMemory(name, track=False)
        b = s.buf[0]
        s.close()
        return b
    res[c["key"]] = per_op(op, c["batch"], c["samples"], c["warmup"])
print(json.dumps(res))
`;

const napi = napiFloor();
const blocks: SharedMemory[] = [];
try {
  for (const size of sizes) {
    const shm = SharedMemory.create(size);
    blocks.push(shm);
    shm.buf[0] = 42;
  }
  // The first (4 KiB) case of a round warms the JIT up for the rest (50 x 20 ops).
  const cases: Array<Case & { name: string }> = blocks.map((b, i) => ({
    key: String(b.size), label: formatBytes(b.size), size: b.size, name: b.name, batch: 20, samples: 25, warmup: i === 0 ? 50 : 10,
  }));

  const attachShmbridge = (name: string) => {
    const shm = SharedMemory.attach(name);
    const byte = shm.buf[0];
    shm.close();
    return byte;
  };
  const attachNapi = (name: string) => {
    const ab = ok(napi.attach(`/${name}`), 'napi floor attach');
    const byte = new Uint8Array(ab)[0];
    ok(napi.close(ab), 'napi floor close');
    return byte;
  };
  const side = (attach: (name: string) => unknown) => (): Record<string, Stats> =>
    Object.fromEntries(cases.map((c) => [c.key, measure(() => attach(c.name), c)]));

  const py = cpython313();
  const results = await interleaved(ROUNDS, {
    shmbridge: side(attachShmbridge),
    cpython: () => timePython<Record<string, Stats>>(py, CPYTHON, [JSON.stringify(cases)]),
    'c-floor': () => Object.fromEntries(cases.map((c) => [c.key, runCFloor(['attach', c.name, c.batch * c.samples])])),
    'napi-floor': side(attachNapi),
  });

  printComparison(
    `attach + read 1 byte through buf + close (${process.version} vs CPython ${py.label}; median of ${ROUNDS} interleaved rounds)`,
    cases,
    results,
    [
      { header: 'vs CPython', side: 'shmbridge', base: 'cpython', as: 'faster' },
      { header: '/ N-API floor', side: 'shmbridge', base: 'napi-floor', as: 'times' },
      { header: '/ C floor', side: 'shmbridge', base: 'c-floor', as: 'times' },
    ],
  );

  // GCs observed (Node's gc performance entries, what --trace-gc prints) over GC_OPS attaches.
  const gcRows: string[][] = [];
  for (const c of cases) {
    const ours = await countGc(() => { for (let i = 0; i < GC_OPS; i++) attachShmbridge(c.name); });
    const floor = await countGc(() => { for (let i = 0; i < GC_OPS; i++) attachNapi(c.name); });
    gcRows.push([c.label, formatGc(ours), formatGc(floor)]);
  }
  printTable(`garbage collections during ${GC_OPS} attach + read + close`, ['size', 'shmbridge', 'napi-floor'], gcRows);

  const median = (s: keyof typeof results, key: string) => results[s][key]!.median;
  for (const c of cases) {
    target(`attach ${c.label} vs CPython`, median('cpython', c.key) / median('shmbridge', c.key), 1);
    ceiling(`attach ${c.label} / N-API floor`, median('shmbridge', c.key) / median('napi-floor', c.key), 1.25);
  }
} finally {
  for (const b of blocks) b.close().unlink();
}
