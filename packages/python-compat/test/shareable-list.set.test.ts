import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ShareableList, py, type PyInput } from '@shmbridge/python-compat';
import { python, pythonService, type PythonService } from '@shmbridge/testkit';
import { T, toInput, type Tag } from './helpers/tags.js';

const ORACLE = fileURLToPath(new URL('./fixtures/sl_oracle.py', import.meta.url));

const initial: Tag[] = [T.str('howdy'), T.bytes('HoWdY'), T.float(-273.154), T.int(100), T.none(), T.bool(true), T.int(42), T.str('exactly8')];

// [index, value, accepted by both]: each step is applied in CPython and in TS.
const steps: Array<[number, Tag, boolean]> = [
  [0, T.str('hi'), true],
  [0, T.int(12345), true],
  [0, T.str('abcdefg'), true], // str into a now-int slot takes the whole slot: "8s"
  [1, T.none(), true],
  [2, T.str('too long for the slot'), false], // ValueError in CPython, RangeError here
  [7, T.str('fifteen chars..'), true], // 'exactly8' got 16 bytes
  [7, T.str('sixteen chars...'), true],
  [7, T.str('seventeen chars..'), false],
  [3, T.bool(true), true],
  [4, T.float(2.5), true],
  [5, T.bytes('\0\x01'), true],
  [-1, T.str('é'), true],
  [6, T.int(-1), true],
  [7, T.int(7), true],
  [7, T.str('back to str'), true], // keeps its 16-byte slot: "16s"
  [2, T.str('éééé'), true], // 8 bytes of UTF-8 in 8
  [2, T.str('ééééé'), false], // 10 bytes > 8
  [-8, T.float(NaN), true],
  [6, T.int(2n ** 63n - 1n), true],
  [6, T.int(-(2n ** 63n)), true],
  [1, T.bytes(''), true],
];

describe.each([[13, 'cpython-3.9'], [8, 'cpython-3.8']] as const)('ShareableList#set against CPython 3.%i (%s layout)', (minor, layout) => {
  let oracle: PythonService;
  beforeAll(async () => {
    oracle = await pythonService(python(minor), ORACLE);
  });
  afterAll(async () => {
    await oracle?.close();
  });

  it('leaves the same bytes as CPython after every step; refused steps change nothing on either side', async () => {
    const made = await oracle.request<{ name: string; hex: string }>({ op: 'create', items: initial });
    const sl = new ShareableList(initial.map(toInput), { layout });
    try {
      expect(sl.shm.buf.toString('hex')).toBe(made.hex);
      for (const [i, tag, accepted] of steps) {
        const before = sl.shm.buf.toString('hex');
        const cp = await oracle.request<{ ok: boolean; error?: string; hex: string }>({ op: 'set', name: made.name, index: i, value: tag });
        let error: any;
        try {
          sl.set(i, toInput(tag));
        } catch (e) {
          error = e;
        }
        const label = `set(${i}, ${JSON.stringify(tag)})`;
        expect({ label, ok: cp.ok }).toEqual({ label, ok: accepted });
        if (accepted) expect({ label, error }).toEqual({ label, error: undefined });
        else {
          expect(cp.error).toBe('ValueError');
          expect(error).toBeInstanceOf(RangeError);
          expect(error.message).toContain('exceeds available storage');
          expect(sl.shm.buf.toString('hex')).toBe(before);
        }
        expect({ label, hex: sl.shm.buf.toString('hex') }).toEqual({ label, hex: cp.hex });
      }
      const cpFormat = (await oracle.request<{ format: string }>({ op: 'read', name: made.name })).format;
      expect(sl.format).toBe(cpFormat);
    } finally {
      sl.shm.close().unlink();
      await oracle.request({ op: 'unlink', name: made.name });
    }
  });

  it('CPython reads what TS set, and TS reads what CPython set, on one block', async () => {
    const sl = new ShareableList([0, 0.5, 'abc', py.bytes('xyz'), null], { layout });
    try {
      sl.set(0, 'int>str');
      sl.set(4, 99n);
      const read = await oracle.request<{ items: Tag[] }>({ op: 'read', name: sl.shm.name });
      expect(read.items).toEqual([T.str('int>str'), T.float(0.5), T.str('abc'), T.bytes('xyz'), T.int(99)]);
      await oracle.request({ op: 'set', name: sl.shm.name, index: 2, value: T.float(-0) });
      await oracle.request({ op: 'set', name: sl.shm.name, index: 3, value: T.none() });
      await oracle.request({ op: 'close', name: sl.shm.name });
      expect(Object.is(sl.get(2), -0)).toBe(true);
      expect(sl.get(3)).toBeNull();
    } finally {
      sl.shm.close().unlink();
    }
  });
});

describe('ShareableList#set refusals change no byte', () => {
  const cases: Array<[string, PyInput, ErrorConstructor, string]> = [
    ['an int above int64', 2n ** 63n, RangeError, 'ERR_OUT_OF_RANGE'],
    ['an int below int64', -(2n ** 63n) - 1n, RangeError, 'ERR_OUT_OF_RANGE'],
    ['an integral number past int64', 1e19, RangeError, 'ERR_OUT_OF_RANGE'],
    ['a str too long for its slot', 'x'.repeat(9), RangeError, 'ERR_OUT_OF_RANGE'],
    ['bytes too long for their slot', new Uint8Array(17), RangeError, 'ERR_OUT_OF_RANGE'],
    ['an object', { a: 1 } as unknown as PyInput, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a symbol', Symbol('s') as unknown as PyInput, TypeError, 'ERR_INVALID_ARG_TYPE'],
    ['a string with a lone surrogate', 'a\ud800', TypeError, 'ERR_INVALID_ARG_VALUE'],
  ];
  it.each(cases)('refuses %s', (_l, value, ErrorClass, code) => {
    const sl = new ShareableList(['abcdefg', 1, new Uint8Array(9)]);
    try {
      const before = Buffer.from(sl.shm.buf);
      const i = value instanceof Uint8Array ? 2 : 0;
      expect(() => sl.set(i, value)).toThrow(expect.objectContaining({ code }));
      try {
        sl.set(i, value);
      } catch (e) {
        expect(e).toBeInstanceOf(ErrorClass);
      }
      expect(Buffer.compare(before, sl.shm.buf)).toBe(0);
    } finally {
      sl.shm.close().unlink();
    }
  });

  it('refuses positions out of range, as Python\'s IndexError', () => {
    const sl = new ShareableList([1, 2]);
    try {
      const before = Buffer.from(sl.shm.buf);
      for (const p of [2, -3, 1.5, NaN]) expect(() => sl.set(p, 0)).toThrow(RangeError);
      expect(Buffer.compare(before, sl.shm.buf)).toBe(0);
    } finally {
      sl.shm.close().unlink();
    }
  });
});
