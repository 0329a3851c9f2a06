import { describe, expect, it } from '@jest/globals';
import { tableFromArrays } from 'apache-arrow';
import { SharedMemory } from '@shmbridge/core';
import { shareTable } from '@shmbridge/arrow';
import { ShareableList } from '@shmbridge/python-compat';
import { run } from '@shmbridge/cli';

// Any local user can create a block in the world-writable /dev/shm, under a
// name (or with contents) made of terminal control sequences. Printed raw,
// "\e]0;title\a" retitles the terminal and "\e[31m" recolours what follows.
const EVIL = '\u001b]0;pwned\u0007\u001b[31mRED\u202eevil';
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('shmbridge text output of names and values a block controls', () => {
  it('escapes control characters in names, items and column names; --json keeps them exact', () => {
    const raw = SharedMemory.create(64, { name: `${EVIL}_raw` });
    const sl = new ShareableList([EVIL, 'plain'], { name: `${EVIL}_list` });
    const { shm: table } = shareTable(tableFromArrays({ [EVIL]: Float64Array.from([1]) }), { name: `${EVIL}_table` });
    try {
      const ls = cli('ls');
      expect(ls.code).toBe(0);
      expect(ls.out).not.toMatch(CONTROL);
      expect(ls.out).toContain('\\x1b]0;pwned\\x07\\x1b[31mRED\\u202eevil_raw');
      for (const name of [raw.name, sl.shm.name, table.name]) {
        const shown = cli('show', name);
        expect(shown.code).toBe(0);
        expect(shown.out).not.toMatch(CONTROL);
        expect(shown.out.split('\n')[0]).toContain('\\x1b]0;pwned');
      }
      expect(cli('show', sl.shm.name).out).toContain("[0] '\\x1B]0;pwned\\x07\\x1B[31mRED\\u202eevil'");
      const missing = cli('rm', `${EVIL}_missing`);
      expect(missing.code).toBe(1);
      expect(missing.err).not.toMatch(CONTROL);
      expect(missing.err).toContain('\\x1b]0;pwned');
      // JSON is for programs: exact, and JSON escapes control characters itself.
      const json = JSON.parse(cli('ls', '--json').out) as Array<{ name: string }>;
      expect(json.map((b) => b.name)).toEqual(expect.arrayContaining([raw.name, sl.shm.name, table.name]));
      expect(JSON.parse(cli('show', sl.shm.name, '--json').out).items[0]).toBe(EVIL);
    } finally {
      raw.close().unlink();
      sl.shm.close().unlink();
      table.close().unlink();
    }
  });
});
