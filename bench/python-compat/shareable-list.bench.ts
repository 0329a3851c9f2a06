/**
 * ShareableList: get and set per op, create of 1,000 items, attach by name —
 * shmbridge vs CPython 3.13's ShareableList, on the same 1,000-item mixed list
 * (int, float, short str, bytes, bool, None), in interleaved rounds.
 * Targets (issue 4): get and set ≥ 20x, create ≥ 10x, attach faster.
 * The sl[i] rows time Python's spelling, through the prototype-chain proxy
 * (issue 13); get/set must not pay for it.
 */
import { SharedMemory } from '@shmbridge/core';
import { ShareableList, py, type PyInput, type PyValue } from '@shmbridge/python-compat';
import { formatNs, interleaved, measure, ratio, type Stats } from '../lib/measure.js';
import { cpython313, PY_TIMING, timePython } from '../lib/python.js';
import { printTable, target } from '../lib/table.js';

const N = 1000;
const ROUNDS = 3;
const kinds: Array<(i: number) => PyInput> = [(i) => i * 7, (i) => i + 0.5, (i) => `s${i % 100}`, (i) => py.bytes(`b${i % 100}`), (i) => i % 2 === 0, () => null];
const items = Array.from({ length: N }, (_, i) => kinds[i % kinds.length]!(i));
// set() writes a value of the item's own type that fits its slot
const replacements = Array.from({ length: N }, (_, i) => kinds[i % kinds.length]!(i + 1));

const CPYTHON = `${PY_TIMING}
from multiprocessing import shared_memory, resource_tracker
name = sys.argv[1]
sl = shared_memory.ShareableList(name=name)
resource_tracker.unregister(sl.shm._name, "shared_memory")
n = len(sl)
kinds = [lambda i: i * 7, lambda i: i + 0.5, lambda i: "s%d" % (i % 100), lambda i: b"b%d" % (i % 100), lambda i: i % 2 == 0, lambda i: None]
repl = [kinds[i % 6](i + 1) for i in range(n)]
items = [kinds[i % 6](i) for i in range(n)]
res = {}
res["get"] = per_op(lambda i: sl[i], n)
def setter(i):
    sl[i] = repl[i]
res["set"] = per_op(setter, n)
res["index"], res["indexSet"] = res["get"], res["set"]  # sl[i] is how Python gets and sets
for i in range(n):
    sl[i] = items[i]
made = []
res["create"] = per_op(lambda i: made.append(shared_memory.ShareableList(items)), 1, samples=100)
for m in made:
    m.shm.close(); m.shm.unlink()
size = sl.shm.size
blocks = []
def block(i):
    b = shared_memory.SharedMemory(create=True, size=size)
    b.buf[::4096] = bytes(len(range(0, size, 4096)))
    blocks.append(b)
res["block"] = per_op(block, 1, samples=100)
for b in blocks:
    b.close(); b.unlink()
# Like for like: shmbridge's attach never talks to a tracker, so CPython's is
# timed with track=False (3.13's own switch, made the default of SharedMemory
# here, which ShareableList builds on) rather than register + unregister.
init_defaults = shared_memory.SharedMemory.__init__.__kwdefaults__
shared_memory.SharedMemory.__init__.__kwdefaults__ = dict(init_defaults, track=False)
def attach(i):
    a = shared_memory.ShareableList(name=name)
    a.shm.close()
res["attach"] = per_op(attach, 1, samples=200)
shared_memory.SharedMemory.__init__.__kwdefaults__ = init_defaults
sl.shm.close()
print(json.dumps(res))
`;

const sl = new ShareableList(items);
try {
  const shmbridge = (): Record<string, Stats> => {
    const get = measure((i) => sl.get(i % N), { batch: N * 10, samples: 50 });
    const set = measure((i) => sl.set(i % N, replacements[i % N]), { batch: N * 10, samples: 50 });
    for (let i = 0; i < N; i++) sl.set(i, items[i]);
    // Python's own spelling, sl[i] / sl[i] = v (the prototype-chain proxy; see shareable-list.ts)
    const index = measure((i) => sl[i % N], { batch: N * 10, samples: 50 });
    const indexSet = measure((i) => (sl[i % N] = replacements[i % N] as PyValue), { batch: N * 10, samples: 50 });
    for (let i = 0; i < N; i++) sl.set(i, items[i]);
    const made: ShareableList[] = [];
    const create = measure(() => made.push(new ShareableList(items)), { samples: 100, warmup: 30 });
    for (const m of made) m.shm.close().unlink();
    // The floor under create: a block of the same size, created and touched page by page, no list in it.
    const blocks: SharedMemory[] = [];
    const block = measure(() => {
      const b = SharedMemory.create(sl.shm.size);
      blocks.push(b);
      for (let p = 0; p < b.size; p += 4096) b.buf[p] = 0;
    }, { samples: 100, warmup: 30 });
    for (const b of blocks) b.close().unlink();
    const attach = measure(() => ShareableList.attach(sl.shm.name).close(), { samples: 200, warmup: 30 });
    return { get, set, index, indexSet, create, block, attach };
  };
  const cpython = () => timePython<Record<string, Stats>>(cpython313(), CPYTHON, [sl.shm.name]);

  const { shmbridge: ours, cpython: theirs } = await interleaved(ROUNDS, { shmbridge, cpython });
  const rows: Array<[string, string]> = [
    ['get (per op)', 'get'],
    ['set (per op)', 'set'],
    ['sl[i] (per op; CPython: its get)', 'index'],
    ['sl[i] = v (per op; CPython: its set)', 'indexSet'],
    ['create 1,000 items', 'create'],
    ['  floor: new block of that size, touched', 'block'],
    ['attach by name + close', 'attach'],
  ];
  printTable(
    `ShareableList, 1,000 mixed items (${process.version} vs CPython 3.13; median of ${ROUNDS} interleaved rounds)`,
    ['operation', 'shmbridge median', 'p90', 'CPython median', 'p90', 'shmbridge vs CPython'],
    rows.map(([label, k]) => [label, formatNs(ours[k]!.median), formatNs(ours[k]!.p90), formatNs(theirs[k]!.median), formatNs(theirs[k]!.p90), ratio(theirs[k]!.median, ours[k]!.median)]),
  );
  const x = (k: string) => theirs[k]!.median / ours[k]!.median;
  target('get vs CPython', x('get'), 20);
  target('set vs CPython', x('set'), 20);
  target('create vs CPython', x('create'), 10);
  target('attach vs CPython', x('attach'), 1);
  console.log(
    `note: a new ${sl.shm.size}-byte block, touched, costs ${formatNs(ours.block!.median)} here (CPython: ${formatNs(theirs.block!.median)}) — ` +
      `more than 10x of CPython's whole create (${formatNs(theirs.create!.median / 10)}) leaves; encoding and writing the items cost ${formatNs(Math.max(0, ours.create!.median - ours.block!.median))}.`,
  );
} finally {
  sl.shm.close().unlink();
}
