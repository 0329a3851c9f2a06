import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isValidOptions, isValidViewOptions, optionsSchema, viewOptionsSchema } from '../src/options.js';

// Values near every rule's edge: types, integers, ranges, null/undefined, extra keys.
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -0, -1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, '', 'psm_x', [], {}, 1n),
  fc.integer(),
  fc.double(),
  fc.string(),
);
const keys = (names: string[]) => fc.dictionary(fc.constantFrom(...names, 'extra', '__proto__', 'constructor'), anyValue, { maxKeys: 5 });

describe('the hand-written option checks (the hot path of create/attach/view)', () => {
  it('never accept what the zod schema refuses, and accept the common valid options', () => {
    fc.assert(fc.property(fc.oneof(keys(['name', 'create', 'size', 'track', 'reserve', 'populate']), anyValue), (o) => {
      if (isValidOptions(o)) expect(optionsSchema.safeParse(o).success).toBe(true);
    }), { numRuns: 5000 });
    fc.assert(fc.property(fc.oneof(keys(['offset', 'length']), anyValue), (o) => {
      if (isValidViewOptions(o)) expect(viewOptionsSchema.safeParse(o).success).toBe(true);
    }), { numRuns: 5000 });
    expect(isValidOptions({ create: true, size: 4096, track: false, reserve: false, populate: false })).toBe(true);
    expect(isValidOptions({ name: 'psm_1', create: false })).toBe(true);
    expect(isValidOptions({ name: null, size: undefined })).toBe(true);
    expect(isValidViewOptions(undefined)).toBe(true);
    expect(isValidViewOptions({ offset: 8, length: 2 })).toBe(true);
  });

  it('leave every invalid case to zod (so its error is the one thrown)', () => {
    for (const bad of [{ size: -1 }, { size: 1.5 }, { size: 2 ** 53 }, { track: 'yes' }, { name: 3 }, { extra: 1 }, [], null, 'x']) {
      expect(isValidOptions(bad)).toBe(false);
      expect(optionsSchema.safeParse(bad).success).toBe(false);
    }
    for (const bad of [{ offset: -8 }, { length: 0.5 }, { extra: 1 }, null, 3]) {
      expect(isValidViewOptions(bad)).toBe(false);
      expect(viewOptionsSchema.safeParse(bad).success).toBe(false);
    }
  });
});
