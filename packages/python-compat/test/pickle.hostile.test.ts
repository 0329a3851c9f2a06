import { describe, expect, it } from '@jest/globals';
import { loads } from '@shmbridge/python-compat';
import { python, runPython } from '@shmbridge/testkit';

// Pickles built to cost far more to read than their size. CPython makes the
// bytes (pickle.dumps of its own objects, or opcodes by hand); the reader must
// stay linear in the input: refuse or decode, never stall.
async function cpythonPickle(code: string): Promise<Uint8Array> {
  const r = await runPython(python(13), `import pickle, pickletools, sys\n${code}\nsys.stdout.write(data.hex())`);
  return Buffer.from(r.stdout, 'hex');
}

describe('pickle reader on hostile input', () => {
  it('decodes wide ints exactly as CPython does (LONG1 and LONG4, both signs)', async () => {
    const r = await runPython(python(13), `
import pickle, sys
for n in [2**63, -(2**63) - 1, 2**2040 - 1, -(2**2040), 2**8000 + 12345, -(2**8184)]:
    print(pickle.dumps(n, 2).hex(), n)
`);
    const rows = r.stdout.trim().split('\n').map((l) => l.split(' '));
    expect(rows).toHaveLength(6);
    for (const [hex, decimal] of rows) expect(String(loads(Buffer.from(hex!, 'hex')))).toBe(decimal);
  });

  it('refuses an int wider than maxIntBytes (1 KiB by default) with ERR_PICKLE_REJECTED, and reads it when allowed', async () => {
    // A 256 KiB LONG4 took 61 s to refuse: the number was built byte by byte, quadratically.
    const data = await cpythonPickle(`n = 3 ** 1_000_000\ndata = pickle.dumps(n, 4)`);
    expect(data.length).toBeGreaterThan(190_000);
    expect(() => loads(data)).toThrow(expect.objectContaining({ code: 'ERR_PICKLE_REJECTED', message: expect.stringMatching(/int of 198121 bytes is wider than this reader accepts/) }));
    const n = loads(data, { maxIntBytes: 1 << 20 }) as bigint;
    expect(n).toBe(3n ** 1_000_000n);
  });

  it('refuses a memoized list rebuilt as a set again and again (copying grows as the square of the input)', async () => {
    // 100k ints, memoized once, then set(that list) 50k times: 2 MB of pickle, 5e9 elements copied.
    const data = await cpythonPickle(`
body = pickle.dumps(list(range(100_000)), 2)[:-1]   # the list, as BINPUT 0; STOP dropped
assert body[2:5] == b']q\\x00'                     # EMPTY_LIST, BINPUT 0
rebuild = b'h\\x01h\\x00\\x85R0'                     # BINGET set, BINGET list, TUPLE1, REDUCE, POP
data = body + b'cbuiltins\\nset\\nq\\x01' + rebuild * 50_000 + b'N.'
`);
    expect(data.length).toBeGreaterThan(300_000);
    const started = Date.now();
    expect(() => loads(data, {})).toThrow(expect.objectContaining({ code: 'ERR_PICKLE_INVALID', message: expect.stringMatching(/copies far more than its own size/) }));
    expect(Date.now() - started).toBeLessThan(5_000); // refused after a few million copies, not billions
  });
});
