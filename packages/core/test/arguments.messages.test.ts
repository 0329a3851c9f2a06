import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { parseArg, SharedMemory, Tensor } from '@shmbridge/core';
import { listShm } from '@shmbridge/testkit';

/** The error a call throws, as the fields a user sees. */
function thrown(f: () => unknown): { name: string; code: string; message: string } {
  try {
    f();
  } catch (e) {
    const err = e as Error & { code: string };
    return { name: err.name, code: err.code, message: err.message };
  }
  throw new Error('expected a throw');
}

describe('argument errors: one shape (errors.ts) for hand-written checks and zod schemas', () => {
  it.each([
    ['create() without a size', () => (SharedMemory.create as (s?: number) => SharedMemory)(),
      'TypeError', 'ERR_INVALID_ARG_TYPE', 'The "size" argument must be of type number (bytes) when creating. Received undefined'],
    ['create(-1)', () => SharedMemory.create(-1),
      'RangeError', 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be a positive integer (bytes, at most ${Number.MAX_SAFE_INTEGER}) when creating. Received type number (-1)`],
    ['create(0)', () => SharedMemory.create(0),
      'RangeError', 'ERR_OUT_OF_RANGE', `The value of "size" is out of range. It must be a positive integer (bytes, at most ${Number.MAX_SAFE_INTEGER}) when creating. Received type number (0)`],
    ["create('10')", () => SharedMemory.create('10' as never),
      'TypeError', 'ERR_INVALID_ARG_TYPE', "The \"size\" argument must be of type number (bytes) when creating. Received type string ('10')"],
    ['{ create: true } without a size', () => new SharedMemory({ create: true }),
      'TypeError', 'ERR_INVALID_ARG_TYPE', 'The "options.size" argument must be of type number (bytes) when creating. Received undefined'],
    ['attaching with size -1 (zod: too_small)', () => new SharedMemory({ name: 'psm_x', size: -1 }),
      'RangeError', 'ERR_OUT_OF_RANGE', 'The value of "options.size" is out of range. It must be >= 0. Received type number (-1)'],
    ['a fractional size when attaching (zod: int)', () => new SharedMemory({ name: 'psm_x', size: 0.5 }),
      'RangeError', 'ERR_OUT_OF_RANGE', 'The value of "options.size" is out of range. It must be an integer. Received type number (0.5)'],
    ['an unknown option (zod: unrecognized_keys)', () => SharedMemory.create(8, { sise: 3 } as never),
      'TypeError', 'ERR_INVALID_ARG_VALUE', "The \"options\" argument has unknown key 'sise'. Received an instance of Object"],
    ['a wrong option type (zod: invalid_type)', () => SharedMemory.create(8, { track: 'no' } as never),
      'TypeError', 'ERR_INVALID_ARG_TYPE', "The \"options.track\" argument must be of type boolean. Received type string ('no')"],
    ['a view offset below 0', () => { const s = SharedMemory.create(8, { track: false }); try { return s.view(Uint8Array, { offset: -1 }); } finally { s.close().unlink(); } },
      'RangeError', 'ERR_OUT_OF_RANGE', 'The value of "options.offset" is out of range. It must be >= 0. Received type number (-1)'],
    ['an enum (zod: invalid_value)', () => Tensor.create({ dtype: 'float32', shape: [2], order: 'K' as never }),
      'TypeError', 'ERR_INVALID_ARG_VALUE', "The \"options.order\" argument must be one of 'C', 'F'. Received type string ('K')"],
    ['a negative dimension (zod: too_small inside an array)', () => Tensor.create({ dtype: 'float32', shape: [2, -1] }),
      'RangeError', 'ERR_OUT_OF_RANGE', 'The value of "options.shape.1" is out of range. It must be >= 0. Received type number (-1)'],
    ['too many dimensions (zod: too_big on an array)', () => Tensor.create({ dtype: 'float32', shape: new Array(65).fill(1) }),
      'RangeError', 'ERR_OUT_OF_RANGE', 'The value of "options.shape.length" is out of range. It must be <= 64. Received type number (65)'],
    ['not an object', () => new SharedMemory(5 as never),
      'TypeError', 'ERR_INVALID_ARG_TYPE', "The \"options\" argument must be of type object (Python's keywords) or string (a name to attach). Received type number (5)"],
  ])('%s', (_label, f, name, code, message) => {
    const before = listShm();
    expect(thrown(f)).toEqual({ name, code, message });
    expect(listShm()).toEqual(before);
  });

  it('maps every zod issue kind it meets into errors.ts shapes, never zod\'s wording', () => {
    const schema = z.object({
      n: z.number().multipleOf(4).optional(),
      s: z.string().min(2).optional(),
      u: z.union([z.string(), z.number()]).optional(),
    }).strict();
    expect(thrown(() => parseArg(schema, { n: 6 }, 'opts'))).toEqual({
      name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'The value of "opts.n" is out of range. It must be a multiple of 4. Received type number (6)',
    });
    expect(thrown(() => parseArg(schema, { s: 'a' }, 'opts'))).toEqual({
      name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: 'The value of "opts.s.length" is out of range. It must be >= 2. Received type number (1)',
    });
    expect(thrown(() => parseArg(schema, { u: true }, 'opts'))).toEqual({
      name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: 'The "opts.u" argument must be of type string or number. Received type boolean (true)',
    });
    for (const bad of [{ n: 6 }, { s: 'a' }, { u: true }, { x: 1 }, 3]) {
      expect(thrown(() => parseArg(schema, bad, 'opts')).message).not.toMatch(/Too small|Too big|Invalid input|Unrecognized key/);
    }
  });
});
