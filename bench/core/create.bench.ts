/**
 * create + close + unlink, at 4 KiB, 64 MiB and 1 GiB, in interleaved rounds:
 * shmbridge, CPython 3.13's SharedMemory, the C floor (the syscalls alone)
 * and the N-API floor (the syscalls plus an external ArrayBuffer).
 *
 * Two sets of syscalls, each side making the same ones:
 * - "bare": CPython's — shm_open, ftruncate, mmap, munmap, shm_unlink; nothing
 *   reserved, untracked (shmbridge `{ track: false, reserve: false, populate: false }`,
 *   CPython `track=False`). The issue's targets apply here.
 * - "defaults": what `SharedMemory.create(size)` does — tracked, posix_fallocate,
 *   MAP_POPULATE; the floors make the same syscalls, tracker messages included
 *   (fstat + a register line at create, an unregister line at unlink, to the
 *   same tracker executable).
 *   CPython's default (tracked, nothing reserved) is shown for reference:
 *   reserving and populating is work CPython never does, paid back at the
 *   first write (bench/core/reserve.bench.ts).
 * Targets (issue 3): faster than CPython at every size; within 1.25x of the N-API floor.
 */
import { SharedMemory, type CreateOptions } from '@shmbridge/core';
import { GiB, KiB, MiB, ok, type Case } from '../lib/cases.js';
import { napiFloor, runCFloor } from '../lib/floors.js';
import { interleaved, measure, type Stats } from '../lib/measure.js';
import { native, trackerExecutable } from '../lib/native.js';
import { cpython313, PY_TIMING, timePython } from '../lib/python.js';
import { ceiling, formatBytes, printComparison, target } from '../lib/table.js';

const ROUNDS = 5;
type Variant = 'bare' | 'defaults';
interface CreateCase extends Case {
  variant: Variant;
}

// The first case of a round warms the JIT up for the rest (50 x 20 ops).
const cheap = { batch: 20, samples: 25, warmup: 10 };
const plans: Array<[number, Record<Variant, Omit<Case, 'key' | 'label' | 'size'>>]> = [
  [4 * KiB, { bare: { ...cheap, warmup: 50 }, defaults: cheap }],
  [64 * MiB, { bare: cheap, defaults: { batch: 1, samples: 10, warmup: 1 } }],
  [GiB, { bare: cheap, defaults: { batch: 1, samples: 3, warmup: 1 } }],
];
const cases: CreateCase[] = plans.flatMap(([size, byVariant]) =>
  (['bare', 'defaults'] as const).map((variant) => ({ key: `${variant} ${size}`, label: formatBytes(size), size, variant, ...byVariant[variant] })),
);

const options: Record<Variant, CreateOptions> = {
  bare: { track: false, reserve: false, populate: false },
  defaults: {},
};
const floorSyscalls: Record<Variant, { reserve: boolean; mmapFlags: number; track: boolean }> = {
  bare: { reserve: false, mmapFlags: 0, track: false },
  defaults: { reserve: true, mmapFlags: native.constants.MAP_POPULATE, track: true },
};
// The N-API floor writes to this process's tracker (started here by one tracked create).
SharedMemory.create(1).close().unlink();
const trackFd = native.trackerFd();
const tracker = trackerExecutable();
if (trackFd < 0 || !tracker) throw new Error('bench: the tracker is not running');

const CPYTHON = `${PY_TIMING}
from multiprocessing import shared_memory
res = {}
for c in json.loads(sys.argv[1]):
    size, track = c["size"], c["variant"] == "defaults"
    def op(i):
        s = shared_memory.SharedMemory(create=True, size=size, track=track)
        try:
            s.close()
        finally:
            s.unlink()
    res[c["key"]] = per_op(op, c["batch"], c["samples"], c["warmup"])
print(json.dumps(res))
`;

function shmbridge(): Record<string, Stats> {
  const out: Record<string, Stats> = {};
  for (const c of cases) {
    const opts = options[c.variant];
    out[c.key] = measure(() => {
      const shm = SharedMemory.create(c.size, opts);
      try {
        shm.close();
      } finally {
        shm.unlink();
      }
    }, c);
  }
  return out;
}

const napi = napiFloor();
const napiPath = `/psm_napi_floor_${process.pid}`;

function napiSide(): Record<string, Stats> {
  const out: Record<string, Stats> = {};
  for (const c of cases) {
    const { reserve, mmapFlags, track } = floorSyscalls[c.variant];
    const fd = track ? trackFd : -1;
    out[c.key] = measure(() => {
      const ab = ok(napi.create(napiPath, c.size, reserve, mmapFlags, fd), 'napi floor create');
      try {
        ok(napi.close(ab), 'napi floor close');
      } finally {
        napi.unlink(napiPath, fd);
      }
    }, c);
  }
  return out;
}

function cSide(): Record<string, Stats> {
  const out: Record<string, Stats> = {};
  for (const c of cases) {
    const { reserve, mmapFlags, track } = floorSyscalls[c.variant];
    out[c.key] = runCFloor(['create', c.size, c.batch * c.samples, reserve ? 1 : 0, mmapFlags, ...(track ? [tracker!] : [])]);
  }
  return out;
}

const py = cpython313();
const results = await interleaved(ROUNDS, {
  shmbridge,
  cpython: () => timePython<Record<string, Stats>>(py, CPYTHON, [JSON.stringify(cases)]),
  'c-floor': cSide,
  'napi-floor': napiSide,
});

const ratios = [
  { header: 'vs CPython', side: 'shmbridge', base: 'cpython', as: 'faster' as const },
  { header: '/ N-API floor', side: 'shmbridge', base: 'napi-floor', as: 'times' as const },
  { header: '/ C floor', side: 'shmbridge', base: 'c-floor', as: 'times' as const },
];
const title = (what: string) => `create + close + unlink, ${what} (${process.version} vs CPython ${py.label}; median of ${ROUNDS} interleaved rounds)`;
printComparison(title("bare: CPython's syscalls, nothing reserved, untracked"), cases.filter((c) => c.variant === 'bare'), results, ratios);
printComparison(title('defaults: tracked + posix_fallocate + MAP_POPULATE (floors: same syscalls and tracker messages; CPython: its defaults)'), cases.filter((c) => c.variant === 'defaults'), results, ratios);

const median = (side: string, key: string) => results[side as keyof typeof results][key]!.median;
for (const c of cases) {
  const name = `create ${c.variant} ${c.label}`;
  if (c.variant === 'bare') target(`${name} vs CPython`, median('cpython', c.key) / median('shmbridge', c.key), 1);
  ceiling(`${name} / N-API floor`, median('shmbridge', c.key) / median('napi-floor', c.key), 1.25);
}
