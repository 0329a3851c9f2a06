import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';
import { ShareableList, py } from '@shmbridge/python-compat';
import { listShm, type Python } from '@shmbridge/testkit';
import { PythonWorker, PythonError } from '@shmbridge/worker';
import { interpreters, startWorker } from './helpers/start.js';

describe.each(interpreters().map((p) => [p.label, p] as const))('PythonWorker#call values, %s', (_label, interp: Python) => {
  let w: PythonWorker;
  beforeAll(async () => {
    w = await startWorker(interp, 'plain.py');
  });
  afterAll(async () => {
    await w.close();
  });

  it('runs on the interpreter it was given', async () => {
    const [major, minor] = await w.call('version');
    expect([major, minor]).toEqual(interp.version);
    expect(w.pythonVersion.startsWith(`${interp.version[0]}.${interp.version[1]}.`)).toBe(true);
  });

  it('maps JS values to the Python types SPEC gives them', async () => {
    const types = await w.call('python_types', [{
      int: 3, float: 1.5, negZero: -0, unsafe: 2 ** 60, big: 2n ** 70n, str: 'é', t: true, none: null, undef: undefined,
      list: [1, 'a'], tuple: py.tuple(1, 2), forcedFloat: py.float(1), forcedInt: py.int(7), bytes: Buffer.from('ab'),
      u8: new Uint8Array([1]), pyBytes: py.bytes('raw'), nested: { a: [{}] },
    }]);
    expect(types).toEqual({
      int: 'int', float: 'float', negZero: 'float', unsafe: 'float', big: 'int', str: 'str', t: 'bool', none: 'NoneType', undef: 'NoneType',
      list: ['list', ['int', 'str']], tuple: ['tuple', ['int', 'int']], forcedFloat: 'float', forcedInt: 'int', bytes: 'bytes',
      u8: 'bytes', pyBytes: 'bytes', nested: { a: ['list', [{}]] },
    });
  });

  it('round-trips JSON-like values exactly, kwargs included', async () => {
    const value = {
      ints: [0, -1, 2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER],
      floats: [0.1, -2.5e-300, 1e300, Number.MIN_VALUE],
      text: ['', 'ascii', 'h\u00e9llo', '\u{1f600} emoji', 'nul\u0000inside'],
      deep: [[[[['x']]]]],
      flags: [true, false, null],
    };
    expect(await w.call('echo', [value, 'two'], { k: [1, 2] })).toEqual([[value, 'two'], { k: [1, 2] }]);
    expect(await w.call('identity', [[Number.NaN, Infinity, -Infinity]])).toEqual([Number.NaN, Infinity, -Infinity]);
    expect(Object.is(await w.call('identity', [-0]), -0)).toBe(true);
  });

  it('keeps ints exact at any size: bigint in, bigint out beyond safe integers', async () => {
    expect(await w.call('identity', [2n ** 100n + 1n])).toBe(2n ** 100n + 1n);
    expect(await w.call('identity', [-(2n ** 64n)])).toBe(-(2n ** 64n));
    expect(await w.call('identity', [12n])).toBe(12);
    expect(await w.call('make', ['big'])).toEqual([2n ** 53n, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n + 7n, 10n ** 30n]);
  });

  it('reads what Python returns: tuples as arrays, int keys as strings, floats bit for bit, bytes as Uint8Array', async () => {
    expect(await w.call('make', ['tuple'])).toEqual([1, 'a', [2.5, null]]);
    expect(await w.call('make', ['int_keys'])).toEqual({ 1: 'one', 2: 'two' });
    const floats = await w.call('make', ['floats']);
    expect(floats).toEqual([Number.NaN, Infinity, -Infinity, -0, 1, 5e-324]);
    expect(Object.is(floats[3], -0)).toBe(true);
    const bytes = await w.call('make', ['bytes']);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([...bytes]).toEqual([0, 1, 0xfe, 0xff]);
    expect([...(await w.call('make', ['bytearray']))]).toEqual([...Buffer.from('xyz')]);
    expect(await w.call('make', ['nested'])).toEqual({ a: [1, { b: [true, false, null] }], s: 'h\u00e9llo \u{1f600}' });
  });

  it("keeps a '__proto__' key an own property, never the prototype", async () => {
    const v = await w.call('make', ['proto']);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('carries bytes over 1 MiB in a block, both ways, and leaves no block behind', async () => {
    const before = listShm();
    const big = await w.call('make', ['big_bytes']);
    expect(big.length).toBe(256 * (5 * 4096 + 1));
    expect(big[257]).toBe(1);
    expect(big[big.length - 1]).toBe(255);
    expect(listShm()).toEqual(before);
    const sent = Buffer.alloc(3 << 20, 7);
    sent[sent.length - 1] = 9;
    const back = await w.call('identity', [sent]);
    expect(back.length).toBe(sent.length);
    expect(Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.length), sent)).toBe(0);
    expect(listShm()).toEqual(before);
  });

  it('refuses Python values with no JS counterpart with a PythonError of type TypeError naming them', async () => {
    for (const [kind, named] of [['set', 'set'], ['complex', 'complex'], ['object', 'object']]) {
      const err = await w.call('make', [kind]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PythonError);
      expect(err).toMatchObject({ code: 'ERR_PYTHON_EXCEPTION', type: 'TypeError' });
      expect((err as PythonError).message).toContain(`cannot send a ${named} to Node`);
    }
    expect(await w.call('identity', [1])).toBe(1);
  });

  it('refuses JS values that cannot cross before sending anything, naming where they are', async () => {
    const before = listShm();
    await expect(w.call('identity', [{ when: new Date(0) }])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"args[0].when"') });
    await expect(w.call('identity', [[1, new Map()]])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"args[0][1]"') });
    await expect(w.call('identity', [() => 1])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(w.call('identity', [Symbol('s')])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(w.call('identity', ['\ud800'])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    await expect(w.call('identity', [new DataView(new ArrayBuffer(4))])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    const circular: unknown[] = [];
    circular.push(circular);
    await expect(w.call('identity', [circular])).rejects.toMatchObject({ code: 'ERR_OUT_OF_RANGE' });
    // A block made for an earlier argument (a 2 MiB Buffer) is unlinked when a later one is refused.
    await expect(w.call('identity', [Buffer.alloc(2 << 20), new Date()])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(w.call('identity', [1], [] as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    await expect(w.call('', [])).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
    expect(listShm()).toEqual(before);
    expect(await w.call('identity', ['still fine'])).toBe('still fine');
  });

  it('passes a SharedMemory by name: Python writes, Node reads the same memory', async () => {
    using shm = SharedMemory.create(64);
    try {
      expect(await w.call('write_shm', [shm, 'from python'])).toBe(64);
      expect(shm.buf.toString('utf8', 0, 11)).toBe('from python');
      shm.buf.write('from node!!');
      expect(Buffer.from(await w.call('read_shm', [shm, 11])).toString()).toBe('from node!!');
      const back: SharedMemory = await w.call('same_shm', [shm]);
      expect(back).toBeInstanceOf(SharedMemory);
      expect(back.name).toBe(shm.name);
      back.close();
    } finally {
      shm.unlink();
    }
  });

  it('passes a ShareableList by name: Python reads it and its write shows in Node', async () => {
    // CPython 3.8 reads only its own layout (README: ShareableList).
    const sl = new ShareableList([21, 'text', 2.5, null, true], interp.version[1] === 8 ? { layout: 'cpython-3.8' } : {});
    try {
      expect(await w.call('list_roundtrip', [sl])).toEqual([21, 'text', 2.5, null, true]);
      expect(sl.get(0)).toBe(42);
    } finally {
      sl.shm.close().unlink();
    }
  });
});
