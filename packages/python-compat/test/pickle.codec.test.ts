import { describe, expect, it } from '@jest/globals';
import { dumps, loads, py, PyCall, PyGlobal, PyTuple } from '@shmbridge/python-compat';
import { python, runPython } from '@shmbridge/testkit';

describe('pickle codec against CPython 3.13', () => {
  it('CPython loads what dumps writes, with the Python types SPEC maps to', async () => {
    const values: Array<[unknown, string]> = [
      [null, 'None'],
      [true, 'True'],
      [0, '0'],
      [255, '255'],
      [65535, '65535'],
      [-1, '-1'],
      [2 ** 31, '2147483648'],
      [2n ** 70n, '1180591620717411303424'],
      [-(2n ** 70n), '-1180591620717411303424'],
      [1.5, '1.5'],
      [-0, '-0.0'],
      [py.float(2), '2.0'],
      [py.int(3), '3'],
      ['héllo', "'héllo'"],
      ['x'.repeat(300), `'${'x'.repeat(300)}'`],
      [new Uint8Array([0, 1, 255]), "b'\\x00\\x01\\xff'"],
      [py.tuple(), '()'],
      [py.tuple(1), '(1,)'],
      [py.tuple(1, 2, 3, 4), '(1, 2, 3, 4)'],
      [[1, [2, 'a']], "[1, [2, 'a']]"],
      [Array.from({ length: 1001 }, (_, i) => i % 3), `[${Array.from({ length: 1001 }, (_, i) => i % 3).join(', ')}]`],
      [new Map<unknown, unknown>([['a', 1], [2, py.tuple('b')]]), "{'a': 1, 2: ('b',)}"],
      [{ k: 'v' }, "{'k': 'v'}"],
      [new PyCall(new PyGlobal('builtins', 'complex'), py.tuple(1, 2)), '(1+2j)'],
    ];
    const r = await runPython(python(13), `
import pickle, sys
for h in sys.argv[1:]:
    print(repr(pickle.loads(bytes.fromhex(h))))
`, { args: values.map(([v]) => dumps(v).toString('hex')) });
    expect(r.stdout.trim().split('\n')).toEqual(values.map(([, repr]) => repr));
  });

  it('reads CPython pickles of plain data at protocols 2-5, telling tuples from lists and ints from floats by type', async () => {
    const r = await runPython(python(13), `
import pickle, json
v = (None, True, 7, -2**40, 2**80, 1.25, 'str', b'raw', [1, (2, 3)], {'k': [4]}, {5, 6}, frozenset([7]), bytearray(b'ba'))
print(json.dumps([pickle.dumps(v, p).hex() for p in range(2, 6)]))
`);
    for (const hex of JSON.parse(r.stdout) as string[]) {
      const v = loads(Buffer.from(hex, 'hex')) as PyTuple;
      expect(v).toBeInstanceOf(PyTuple);
      const [none, t, seven, neg, big, f, s, b, list, dict, set, fset, ba] = v.items as any[];
      expect([none, t, seven, neg, big, f, s]).toEqual([null, true, 7, -(2 ** 40), 2n ** 80n, 1.25, 'str']);
      expect(b).toEqual(new Uint8Array([0x72, 0x61, 0x77]));
      expect(list[0]).toBe(1);
      expect(list[1]).toEqual(new PyTuple([2, 3]));
      expect(dict).toEqual(new Map([['k', [4]]]));
      expect(set).toEqual(new Set([5, 6]));
      expect(fset).toEqual(new Set([7]));
      expect(ba).toEqual(new Uint8Array([0x62, 0x61]));
    }
  });

  it('writes a manager request exactly as pickle.dumps does', async () => {
    const req = py.tuple(null, 'track_segment', py.tuple('psm_1a2b3c4d'), new Map());
    const r = await runPython(python(13), `import pickle; print(pickle.dumps((None, 'track_segment', ('psm_1a2b3c4d',), {})).hex())`);
    expect(dumps(req).toString('hex')).toBe(r.stdout.trim());
  });

  it('refuses values with no Python counterpart', () => {
    for (const v of [Symbol('s'), () => 1, new Date(0), new (class X {})()]) expect(() => dumps(v)).toThrow(TypeError);
    expect(() => dumps([[[[[[[[[[]]]]]]]]]].reduce((a) => [a], [] as unknown[]))).not.toThrow();
    let deep: unknown[] = [];
    for (let i = 0; i < 1500; i++) deep = [deep];
    expect(() => dumps(deep)).toThrow(/deeper than 1000/);
  });

  it('loads refuses any global it was not given, and accepts those it was', () => {
    const bytes = dumps(new PyCall(new PyGlobal('builtins', 'complex'), py.tuple(1, 2)));
    expect(() => loads(bytes)).toThrow(expect.objectContaining({ code: 'ERR_PICKLE_REJECTED', message: expect.stringContaining('builtins.complex') }));
    const call = loads(bytes, { globals: ['builtins.complex'] }) as PyCall;
    expect(call).toBeInstanceOf(PyCall);
    expect((call.func as PyGlobal).qualified).toBe('builtins.complex');
    expect(call.args.items).toEqual([1, 2]);
  });
});
