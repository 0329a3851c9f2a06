import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedMemory } from '@shmbridge/core';
import { ShareableList, fromPickle, toPickle } from '@shmbridge/python-compat';
import { createsNoBlock, pythons, runPython, type Python } from '@shmbridge/testkit';

const interpreters = pythons().filter((p) => p.label !== 'python3');

describe.each(interpreters.map((p) => [p.label, p] as const))('pickles with CPython %s', (_l, py: Python) => {
  it('CPython unpickles TS pickles into attached objects, and TS pickles are the bytes pickle.dumps writes', async () => {
    const shm = SharedMemory.create(40);
    const sl = new ShareableList(['a', 2], { layout: py.version[1] === 8 ? 'cpython-3.8' : 'cpython-3.9' });
    try {
      shm.buf.write('pickled', 0);
      const r = await runPython(py, `
import pickle, sys
from multiprocessing import resource_tracker
s = pickle.loads(bytes.fromhex(sys.argv[1]))
l = pickle.loads(bytes.fromhex(sys.argv[2]))
for o in (s, l.shm):
    resource_tracker.unregister(o._name, "shared_memory")  # attached, not ours (bpo-39959)
print(type(s).__name__, s.name, s.size, bytes(s.buf[:7]).decode(), list(l))
print(pickle.dumps(s).hex() == sys.argv[1], pickle.dumps(l).hex() == sys.argv[2])
s.close(); l.shm.close()
`, { args: [toPickle(shm).toString('hex'), toPickle(sl).toString('hex')] });
      const [first, second] = r.stdout.trim().split('\n');
      expect(first).toBe(`SharedMemory ${shm.name} 40 pickled ['a', 2]`);
      expect(second).toBe('True True');
    } finally {
      shm.close().unlink();
      sl.shm.close().unlink();
    }
  });

  it('TS reads CPython pickles of SharedMemory and ShareableList, protocols 2 to 5, and attaches', async () => {
    const shm = SharedMemory.create(24);
    const sl = new ShareableList([1.5, 'x'], { layout: py.version[1] === 8 ? 'cpython-3.8' : 'cpython-3.9' });
    try {
      const r = await runPython(py, `
import pickle, sys, json
from multiprocessing import shared_memory, resource_tracker
s = shared_memory.SharedMemory(sys.argv[1]); resource_tracker.unregister(s._name, "shared_memory")
l = shared_memory.ShareableList(name=sys.argv[2]); resource_tracker.unregister(l.shm._name, "shared_memory")
print(json.dumps([[pickle.dumps(s, p).hex(), pickle.dumps(l, p).hex()] for p in range(2, pickle.HIGHEST_PROTOCOL + 1)]))
s.close(); l.shm.close()
`, { args: [shm.name, sl.shm.name] });
      const pickles = JSON.parse(r.stdout) as [string, string][];
      expect(pickles.length).toBeGreaterThanOrEqual(py.version[1] >= 8 ? 4 : 3);
      for (const [p1, p2] of pickles) {
        const a = fromPickle(Buffer.from(p1, 'hex'));
        const b = fromPickle(Buffer.from(p2, 'hex'));
        expect(a).toBeInstanceOf(SharedMemory);
        expect(b).toBeInstanceOf(ShareableList);
        expect([(a as SharedMemory).name, (a as SharedMemory).size]).toEqual([shm.name, 24]);
        expect((b as ShareableList).toArray()).toEqual([1.5, 'x']);
        (a as SharedMemory).close();
        (b as ShareableList).close();
      }
    } finally {
      shm.close().unlink();
      sl.shm.close().unlink();
    }
  });
});

describe('fromPickle refuses everything else, with no side effect', () => {
  it('refuses hostile pickles CPython made (os.system, eval, create=True…): no command runs, nothing is attached or created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shmbridge-pickle-'));
    const marker = join(dir, 'pwned');
    try {
      const r = await runPython(interpreters[interpreters.length - 1]!, `
import os, pickle, json, sys, builtins, subprocess
from multiprocessing import shared_memory
marker = sys.argv[1]
class Sys:
    def __reduce__(self): return (os.system, ("touch " + marker,))
class Eval:
    def __reduce__(self): return (builtins.eval, ("__import__('os').system('touch %s')" % marker,))
class Popen:
    def __reduce__(self): return (subprocess.Popen, (["touch", marker],))
class Create:
    def __reduce__(self): return (shared_memory.SharedMemory, ("shmbridge_evil", True, 4096))
class Wrapped:
    def __reduce__(self): return (shared_memory.SharedMemory, (Sys(), False, 8))
out = {}
for name, obj in [("os.system", Sys()), ("eval", Eval()), ("Popen", Popen()), ("create", Create()), ("nested", Wrapped())]:
    out[name] = [pickle.dumps(obj, p).hex() for p in (0, 2, 4, 5)]
out["plain data"] = [pickle.dumps({"a": [1, 2]}, 4).hex()]
print(json.dumps(out))
`, { args: [marker] });
      const hostile = JSON.parse(r.stdout) as Record<string, string[]>;
      expect(createsNoBlock(() => {
        for (const [label, list] of Object.entries(hostile)) {
          list.forEach((hex, i) => {
            let err: any;
            try {
              fromPickle(Buffer.from(hex, 'hex'));
            } catch (e) {
              err = e;
            }
            // Protocol 0 (text opcodes) is not read at all; 2–5 are read and the request refused.
            const protocol = label === 'plain data' ? 4 : [0, 2, 4, 5][i];
            expect({ label, protocol, code: err?.code }).toEqual({ label, protocol, code: protocol === 0 ? expect.stringMatching(/^ERR_PICKLE_(REJECTED|INVALID)$/) : 'ERR_PICKLE_REJECTED' });
          });
        }
      })).toBe(true);
      expect(existsSync(marker)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which global it refused', () => {
    const osSystem = Buffer.from('8004951f000000000000008c05706f736978948c0673797374656d9493948c026964948594529432e', 'hex');
    expect(() => fromPickle(osSystem.subarray(0, osSystem.length - 1))).toThrow(/global posix.system is not allowed/);
  });

  it('refuses truncated and garbage input with ERR_PICKLE_INVALID, and 5,000 random mutations only ever throw coded errors', () => {
    const shm = SharedMemory.create(8);
    try {
      const valid = toPickle(shm);
      for (let n = 0; n < valid.length; n++) {
        expect(() => fromPickle(valid.subarray(0, n))).toThrow(expect.objectContaining({ code: 'ERR_PICKLE_INVALID' }));
      }
      expect(() => fromPickle(Buffer.from('not a pickle'))).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_PICKLE_/) }));
      // A 4 GiB length in a tiny input is refused from the length alone.
      expect(() => fromPickle(Buffer.from('80048d' + 'ffffffff00000000', 'hex'))).toThrow(/longer than the pickle|truncated/);
      // 10,000 nested MARKs
      expect(() => fromPickle(Buffer.from('8004' + '28'.repeat(10_000), 'hex'))).toThrow(/nesting deeper/);
      const outcomes = { attached: 0, refused: 0 };
      fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = Buffer.from(valid);
        for (const [at, v] of edits) b[at % b.length] = v;
        try {
          const o = fromPickle(b);
          (o as SharedMemory).close();
          outcomes.attached++;
        } catch (e) {
          if (!/^(ERR_PICKLE_|ERR_INVALID_ARG_|ENOENT$|ERR_OUT_OF_RANGE$)/.test((e as { code?: string }).code ?? '')) throw e;
          outcomes.refused++;
        }
      }), { numRuns: 5000, seed: 7 });
      expect(outcomes.refused).toBeGreaterThan(1000);
    } finally {
      shm.close().unlink();
    }
  });
});
