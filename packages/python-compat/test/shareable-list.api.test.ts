import { describe, expect, it } from '@jest/globals';
import { inspect } from 'node:util';
import { ShareableList, py, type PyInput } from '@shmbridge/python-compat';
import { python, runPython, shmExists } from '@shmbridge/testkit';

function withList<T>(items: ConstructorParameters<typeof ShareableList>[0], fn: (sl: ShareableList) => T, options?: ConstructorParameters<typeof ShareableList>[1]): T {
  const sl = new ShareableList(items, options);
  try {
    return fn(sl);
  } finally {
    sl.shm.close().unlink();
  }
}

describe('ShareableList', () => {
  it('gets by index like Python, negative from the end; at() is the same', () => {
    withList(['a', 2, 3.5, null, true], (sl) => {
      expect(sl.length).toBe(5);
      expect([sl.get(0), sl.get(-1), sl.at(-5), sl.at(2)]).toEqual(['a', true, 'a', 3.5]);
      expect(() => sl.get(5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
      expect(() => sl.get(-6)).toThrow(RangeError);
      expect([...sl]).toEqual(['a', 2, 3.5, null, true]);
    });
  });

  it('maps values per SPEC: integral → int, other numbers → float, -0 stays a float', () => {
    withList([1, 1.5, -0, NaN, Infinity, 2n ** 60n, py.float(1), py.int(7), undefined, new Uint8Array([1, 2])], (sl) => {
      expect(sl.format).toBe('qddddqdqxxxxxx?x8s');
      expect(Object.is(sl.get(2), -0)).toBe(true);
      expect(sl.get(3)).toBeNaN();
      expect(sl.get(5)).toBe(2n ** 60n); // past 2^53: bigint
      expect(sl.get(6)).toBe(1);
      expect(sl.get(8)).toBeNull();
      expect(sl.get(9)).toEqual(new Uint8Array([1, 2]));
    });
  });

  it('reads every int as bigint with { int64: "bigint" }', () => {
    withList([1, -2, 3.5], (sl) => {
      const big = ShareableList.attach(sl.shm.name, { int64: 'bigint' });
      expect(big.toArray()).toEqual([1n, -2n, 3.5]);
      big.close();
    });
  });

  it('returns bytes as copies, not views of the block', () => {
    withList([py.bytes('abc')], (sl) => {
      const b = sl.get(0) as Uint8Array;
      b[0] = 0x7a;
      expect(sl.get(0)).toEqual(new Uint8Array([0x61, 0x62, 0x63]));
      expect(Buffer.isBuffer(b)).toBe(false);
    });
  });

  it('counts and finds with Python equality (1 == 1.0 == True, bytes by content)', () => {
    withList([1, 1.0, true, 'x', py.bytes('x'), null, 2n], (sl) => {
      expect(sl.count(1)).toBe(3);
      expect(sl.count(py.float(1))).toBe(3);
      expect(sl.count('x')).toBe(1);
      expect(sl.count(new Uint8Array([0x78]))).toBe(1);
      expect(sl.count(null)).toBe(1);
      expect(sl.index(2)).toBe(6);
      expect(sl.index(py.bytes('x'))).toBe(4);
      expect(() => sl.index('missing')).toThrow(expect.objectContaining({ name: 'ValueError', code: 'ERR_VALUE_NOT_FOUND', message: "'missing' not in this container" }));
    });
  });

  it("says what is missing in index() as CPython's ValueError does, in Python's repr (CPython's own messages as the oracle)", async () => {
    const values: Array<[PyInput, string]> = [
      ["it's", `"it's"`], ['tab\there', "'tab\\there'"], [py.bytes('\x00\x7fok'), "b'\\x00\\x7fok'"], [new Uint8Array([0xff, 0x27]), "b'\\xff\\''"],
      [2.5, '2.5'], [py.float(3), '3.0'], [7, '7'], [2n ** 70n, '2**70'], [false, 'False'], [null, 'None'], [NaN, "float('nan')"], [-Infinity, "float('-inf')"],
    ];
    const cpython = await runPython(python(13), `
from multiprocessing import shared_memory
sl = shared_memory.ShareableList([1, 'a'])
for v in [${values.map(([, py]) => py).join(', ')}]:
    try:
        sl.index(v)
    except ValueError as e:
        print(e)
sl.shm.close(); sl.shm.unlink()
`);
    const expected = cpython.stdout.trim().split('\n');
    expect(expected).toHaveLength(values.length);
    withList([1, 'a'], (sl) => {
      values.forEach(([value], i) => {
        let err: (Error & { code?: string }) | undefined;
        try {
          sl.index(value);
        } catch (e) {
          err = e as Error;
        }
        expect(err && [err.name, err.code, err.message, String(err)]).toEqual(['ValueError', 'ERR_VALUE_NOT_FOUND', expected[i], `ValueError: ${expected[i]}`]);
      });
    });
  });

  describe('sl[i], sl[i] = v, sl.length: Python\'s list syntax', () => {
    it('reads and writes through get/set, negative indices from the end', () => {
      withList(['a', 2, 3.5, null, true], (sl) => {
        expect([sl[0], sl[1], sl[-1], sl[-5], sl.length]).toEqual(['a', 2, true, 'a', 5]);
        sl[1] = 'xy';
        sl[-1] = 7;
        sl[3] = py.float(2) as never; // forced types go through set() too
        expect([sl.get(1), sl.get(4), sl.get(3)]).toEqual(['xy', 7, 2]);
        expect(sl.format).toBe('8s8sdd' + 'q');
      });
    });

    it('throws where a plain object would silently read undefined or add a property', () => {
      withList([1, 2, 3], (sl) => {
        const bytes = Buffer.from(sl.shm.buf);
        for (const key of [3, -4, 1.5, NaN]) {
          expect(() => sl[key]).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
          expect(() => { sl[key] = 9; }).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
        }
        // Refused writes change no byte and add no property.
        expect(() => { sl[0] = {} as never; }).toThrow(TypeError);
        expect(() => { sl[0] = 2n ** 64n; }).toThrow(RangeError);
        expect(Buffer.from(sl.shm.buf)).toEqual(bytes);
        expect(Object.keys(sl)).toEqual(['shm']);
      });
    });

    it('leaves other properties ordinary (methods, symbols, then, own properties)', async () => {
      withList([1], (sl) => {
        expect((sl as unknown as { then?: unknown }).then).toBeUndefined();
        expect(typeof sl.toString).toBe('function');
        (sl as unknown as { tag: string }).tag = 'mine';
        expect(Object.getOwnPropertyDescriptor(sl, 'tag')?.value).toBe('mine');
        expect(JSON.stringify(sl)).toBe(`{"name":"${sl.shm.name}"}`);
      });
    });

    it('index access on a closed list throws ERR_SHM_CLOSED', () => {
      const sl = new ShareableList([1]);
      sl.shm.close().unlink();
      expect(() => sl[0]).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED' }));
    });
  });

  it('attaches by Python\'s form and by attach(), and reads in Python\'s repr style', () => {
    withList(['howdy', 42], (sl) => {
      const a = new ShareableList(null, { name: sl.shm.name });
      const b = ShareableList.attach(sl.shm.name);
      expect(a.toArray()).toEqual(b.toArray());
      expect(inspect(a)).toBe(`ShareableList([ 'howdy', 42 ], name='${sl.shm.name}')`);
      expect(a.toJSON()).toEqual({ name: sl.shm.name });
      expect(JSON.stringify(b)).toBe(`{"name":"${sl.shm.name}"}`);
      a.close();
      b.close();
      expect(() => a.get(0)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED' }));
      expect(inspect(a)).toContain('<closed>');
    });
  });

  it('creates under a given name and an empty list without a sequence', () => {
    const name = `shmbridge_sl_${process.pid}`;
    withList(['x'], (sl) => {
      expect(sl.shm.name).toBe(name);
      expect(shmExists(name)).toBe(true);
    }, { name });
    withList(null, (sl) => {
      expect(sl.length).toBe(0);
      expect(sl.shm.size).toBe(16); // 8-byte count + offsets[0], as CPython 3.9+
    });
  });

  it('refuses a bad item before creating anything, naming its index', () => {
    expect(() => new ShareableList([1, 2, {} as never])).toThrow('"sequence[2]"');
    expect(() => new ShareableList([1], { int64: 'huge' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('strips trailing NULs by default like CPython, and keeps them with { nulSentinel: true }', async () => {
    withList(['a\0', py.bytes('b\0\0')], (sl) => {
      expect(sl.toArray()).toEqual(['a', new Uint8Array([0x62])]);
    });
    const sl = new ShareableList(['a\0', py.bytes('b\0\0'), 'plain', 5], { nulSentinel: true });
    try {
      expect(sl.toArray()).toEqual(['a\0', new Uint8Array([0x62, 0, 0]), 'plain', 5]);
      sl.set(2, 'z\0');
      expect(sl.get(2)).toBe('z\0');
      // CPython with the documented workaround (drop the last char) sees the same values.
      const r = await runPython(python(13), `
from multiprocessing import shared_memory, resource_tracker
sl = shared_memory.ShareableList(name=${JSON.stringify(sl.shm.name)})
resource_tracker.unregister(sl.shm._name, "shared_memory")
print(repr([x[:-1] if isinstance(x, (str, bytes)) else x for x in sl]))
sl.shm.close()
`);
      expect(r.stdout.trim()).toBe("['a\\x00', b'b\\x00\\x00', 'z\\x00', 5]");
    } finally {
      sl.shm.close().unlink();
    }
  });

  it('closes with Symbol.dispose; the block stays for others', () => {
    const sl = new ShareableList([1]);
    const other = ShareableList.attach(sl.shm.name);
    sl[Symbol.dispose]();
    expect(sl.shm.closed).toBe(true);
    expect(other.get(0)).toBe(1);
    other.close();
    other.shm.unlink();
  });
});
