import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ShareableList, type LayoutKind } from '@shmbridge/python-compat';
import { pythons, pythonService, type Python, type PythonService } from '@shmbridge/testkit';
import { corpus, truncatedByCPython } from './helpers/corpus.js';
import { tagsAs, toInput, type Tag } from './helpers/tags.js';

const ORACLE = fileURLToPath(new URL('./fixtures/sl_oracle.py', import.meta.url));
const cases = corpus();

// Every CPython on the machine with multiprocessing.shared_memory (3.8+), and python3.
const interpreters = pythons();
if (interpreters.length < 7) throw new Error(`expected CPython 3.8–3.13 and python3, found ${interpreters.map((p) => p.label).join(', ')}`);

function createTs(items: Tag[], layout: LayoutKind): ShareableList {
  return new ShareableList(items.map(toInput), { layout });
}

describe.each(interpreters.map((p) => [p.label, p] as const))('ShareableList and CPython %s', (_label, py: Python) => {
  const layout: LayoutKind = py.version[1] === 8 ? 'cpython-3.8' : 'cpython-3.9';
  let oracle: PythonService;
  beforeAll(async () => {
    oracle = await pythonService(py, ORACLE);
  });
  afterAll(async () => {
    await oracle?.close();
  });

  it(`creates byte-identical blocks (${layout} layout) for every lossless list of the corpus`, async () => {
    const lossless = cases.filter((c) => !c.lossyInCPython);
    const { lists } = await oracle.request<{ lists: { hex: string; format: string }[] }>({ op: 'create_many', lists: lossless.map((c) => c.items) });
    const mismatches: string[] = [];
    lossless.forEach((c, i) => {
      const sl = createTs(c.items, layout);
      try {
        const hex = sl.shm.buf.toString('hex');
        if (hex !== lists[i]!.hex || sl.format !== lists[i]!.format) mismatches.push(`${c.label}:\n  cpython ${lists[i]!.hex}\n  ts      ${hex}`);
      } finally {
        sl.shm.close().unlink();
      }
    });
    expect(mismatches).toEqual([]);
    expect(lossless.length).toBeGreaterThan(60);
  });

  it('reads every list CPython made exactly as CPython reads it', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const made = await oracle.request<{ name: string }>({ op: 'create', items: c.items });
      try {
        const expected = await oracle.request<{ items: Tag[]; format: string }>({ op: 'read', name: made.name }).catch((e: Error) => e);
        const sl = ShareableList.attach(made.name);
        try {
          if (expected instanceof Error) {
            // CPython cannot read its own truncated text (UnicodeDecodeError): TS refuses it too.
            expect(expected.message).toContain('UnicodeDecodeError');
            expect(c.lossyInCPython).toBe(true);
            expect(() => sl.toArray()).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT' }));
            continue;
          }
          expect(sl.layout).toBe(layout);
          const got = tagsAs(expected.items, sl.toArray());
          // Compare the JS values typed by what CPython saw; ints vs floats are told apart by CPython's tags.
          if (JSON.stringify(got) !== JSON.stringify(expected.items) || sl.format !== expected.format) failures.push(c.label);
        } finally {
          sl.close();
        }
      } finally {
        await oracle.request({ op: 'unlink', name: made.name });
      }
    }
    expect(failures).toEqual([]);
  });

  it('lists TS made read in CPython as the values TS was given (lossy-in-CPython text included)', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const sl = createTs(c.items, layout);
      try {
        const read = await oracle.request<{ items: Tag[] }>({ op: 'read', name: sl.shm.name });
        await oracle.request({ op: 'close', name: sl.shm.name });
        // CPython strips trailing NULs of str/bytes on read (gh-106939); everything else comes back as given.
        const expected = c.items.map((t) => (t.t === 'str' ? { t: 'str', v: t.v.replace(/\0+$/, '') } : t.t === 'bytes' ? { t: 'bytes', v: t.v.replace(/(00)+$/, '') } : t));
        if (JSON.stringify(read.items) !== JSON.stringify(expected)) failures.push(`${c.label}: ${JSON.stringify(read.items).slice(0, 200)}`);
      } finally {
        sl.shm.close().unlink();
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives text CPython would truncate a large enough slot (the SPEC fix), never losing a byte', async () => {
    const text = 'é'.repeat(8); // 8 code points → CPython allocates 16 bytes; UTF-8 needs 16 → fits; 9 would not
    const over = '😀😀😀😀😀'; // 5 code points → 8 bytes allocated by CPython; 20 bytes of UTF-8
    expect(truncatedByCPython(over)).toBe(true);
    const sl = new ShareableList([text, over], { layout });
    try {
      expect(sl.format).toBe('16s24s'); // 8 × é fits CPython's 16 bytes; 5 emoji need 24, not CPython's 8
      const read = await oracle.request<{ items: Tag[] }>({ op: 'read', name: sl.shm.name });
      await oracle.request({ op: 'close', name: sl.shm.name });
      expect(read.items).toEqual([{ t: 'str', v: text }, { t: 'str', v: over }]);
    } finally {
      sl.shm.close().unlink();
    }
  });
});
