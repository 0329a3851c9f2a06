import { describe, expect, it } from '@jest/globals';
import { checkName, generateName, MAX_NAME_BYTES, NAME_PREFIX } from '@shmbridge/core';

describe('names', () => {
  it('generates distinct psm_ names of 12 characters, like _make_filename', () => {
    const names = new Set(Array.from({ length: 1000 }, generateName));
    expect(names.size).toBe(1000);
    for (const n of names) expect(n).toMatch(/^psm_[0-9a-f]{8}$/);
    expect(NAME_PREFIX).toBe('psm_');
  });

  it('allows 255 bytes on Linux and counts UTF-8 bytes, not characters', () => {
    expect(MAX_NAME_BYTES).toBe(255);
    expect(checkName('é'.repeat(127))).toBe('é'.repeat(127));
    expect(() => checkName('é'.repeat(128))).toThrow(RangeError);
  });

  it('refuses a name with a lone surrogate, which would silently open the block named with U+FFFD instead', () => {
    for (const name of ['\ud800x', 'x\udfff', '\udc00\ud800']) {
      expect(() => checkName(name)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/lone surrogate/) }));
    }
    expect(checkName('\ud83d\ude00')).toBe('😀'); // a surrogate pair is fine
  });

  it('names the argument and shows what was received', () => {
    expect(() => checkName('a/b', 'handle.name')).toThrow(`The "handle.name" argument must not contain '/'`);
    expect(() => checkName(42)).toThrow('Received type number (42)');
  });
});
