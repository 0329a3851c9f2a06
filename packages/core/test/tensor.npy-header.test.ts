import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { dtypeOf, formatNpyHeader, parseNpyHeader } from '@shmbridge/core';
import { python3, startPython } from '@shmbridge/testkit';

const valid = fc.record({
  descr: fc.constantFrom('<f4', '<f8', '|u1', '<i8', '|b1', '<u2'),
  fortran: fc.boolean(),
  shape: fc.array(fc.nat(100_000), { maxLength: 5 }),
});

const mutation = fc.oneof(
  // mild: a digit for a digit, whitespace for whitespace — often still a valid header
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('digit' as const), at: fc.nat(), to: fc.integer({ min: 0, max: 9 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('space' as const), at: fc.nat(), to: fc.constantFrom(' ', '\t', '\n', '\r') }) },
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), to: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('char' as const), at: fc.nat(), to: fc.constantFrom(...'{}(),:\' "0123456789TrueFalsx\n\\'.split('')) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('length' as const), to: fc.nat(70000) }),
);

function mutate(header: Uint8Array, ms: Array<typeof mutation extends fc.Arbitrary<infer T> ? T : never>): Buffer {
  let b = Buffer.from(header);
  for (const m of ms) {
    if (m.kind === 'cut') b = b.subarray(0, m.at % (b.length + 1));
    else if (m.kind === 'digit' || m.kind === 'space') {
      const want = m.kind === 'digit' ? /[0-9]/ : /[ \n]/;
      const positions = [...b.keys()].filter((i) => i >= 10 && want.test(String.fromCharCode(b[i]!)));
      if (positions.length) b[positions[m.at % positions.length]!] = m.kind === 'digit' ? 0x30 + m.to : m.to.charCodeAt(0);
    } else if (m.kind === 'length') {
      if (b.length >= 10) b.writeUInt16LE(m.to & 0xffff, 8);
    } else if (b.length) b[m.at % b.length] = m.kind === 'byte' ? m.to : m.to.charCodeAt(0);
  }
  return b;
}

describe('.npy headers', () => {
  it('formats what numpy writes and parses it back', () => {
    fc.assert(fc.property(valid, ({ descr, fortran, shape }) => {
      const h = formatNpyHeader(descr, fortran, shape);
      expect(h.length % 64).toBe(0);
      expect(parseNpyHeader(h, 'x')).toEqual({ descr, fortranOrder: fortran, shape, dataOffset: h.length, version: [1, 0] });
    }), { numRuns: 500 });
  });

  it('2,000 corrupted headers: refused (ERR_SHM_CORRUPT, or an unsupported dtype), or read exactly as numpy reads them', async () => {
    const cases = fc.sample(fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })), { numRuns: 2000, seed: 61 });
    const accepted: { hex: string; parsed: unknown }[] = [];
    let refused = 0;
    for (const [v, ms] of cases) {
      const bytes = mutate(formatNpyHeader(v.descr, v.fortran, v.shape), ms);
      try {
        // What Tensor.attach does with a header: parse it, then look its dtype up.
        const h = parseNpyHeader(bytes, 'fuzz');
        const descr = dtypeOf(h.descr).descr;
        accepted.push({ hex: bytes.toString('hex'), parsed: [descr, h.fortranOrder, h.shape, h.dataOffset] });
      } catch (err) {
        expect(['ERR_SHM_CORRUPT', 'ERR_INVALID_ARG_VALUE']).toContain((err as { code?: string }).code);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
    expect(accepted.length).toBeGreaterThan(100);
    // numpy's own reader on every header we accepted: it must accept it and read the same thing.
    const p = startPython(python3(), `
import io, json, sys, numpy as np
fmt = np.lib.format
out = []
for line in sys.stdin:
    b = bytes.fromhex(line.strip())
    fp = io.BytesIO(b); fp.seek(6)
    major = b[6]
    fp.seek(8)
    try:
        shape, fortran, dtype = fmt.read_array_header_1_0(fp) if major == 1 else fmt.read_array_header_2_0(fp)
        out.append([fmt.dtype_to_descr(dtype), fortran, list(shape), fp.tell()])
    except Exception as e:
        out.append(type(e).__name__ + ": " + str(e)[:100])
print(json.dumps(out))
`);
    p.child.stdin!.end(accepted.map((a) => `${a.hex}\n`).join(''));
    const r = await p.done;
    const numpy = JSON.parse(r.stdout) as unknown[];
    expect(numpy).toHaveLength(accepted.length);
    const disagreements = accepted.map((a, i) => ({ ours: a.parsed, numpy: numpy[i] })).filter((d) => JSON.stringify(d.ours) !== JSON.stringify(d.numpy));
    expect(disagreements).toEqual([]);
  });
});
