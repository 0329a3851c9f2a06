import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { ShareableList } from '@shmbridge/python-compat';
import { python, pythonService, type PythonService } from '@shmbridge/testkit';
import { truncatedByCPython } from './helpers/corpus.js';
import { T, tagsAs, toInput, type Tag } from './helpers/tags.js';

const ORACLE = fileURLToPath(new URL('./fixtures/sl_oracle.py', import.meta.url));

// Values CPython can re-create losslessly: no trailing NULs (stripped on read),
// no text CPython's own allocation would truncate.
const tag: fc.Arbitrary<Tag> = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(T.int),
  fc.double().map(T.float),
  fc.boolean().map(T.bool),
  fc.constant(T.none()),
  fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.endsWith('\0') && !truncatedByCPython(s)).map(T.str),
  fc.uint8Array({ maxLength: 30 }).filter((b) => b.length === 0 || b[b.length - 1] !== 0).map(T.bytes),
);

describe('ShareableList round trip TS → CPython 3.13 → TS (property)', () => {
  let oracle: PythonService;
  beforeAll(async () => {
    oracle = await pythonService(python(13), ORACLE);
  });
  afterAll(async () => {
    await oracle?.close();
  });

  it('200 random lists come back value for value', async () => {
    const lists = fc.sample(fc.array(tag, { maxLength: 25 }), { numRuns: 200, seed: 1125 });
    for (const items of lists) {
      const ts = new ShareableList(items.map(toInput));
      let made: { name: string } | undefined;
      try {
        const seen = await oracle.request<{ items: Tag[] }>({ op: 'read', name: ts.shm.name });
        await oracle.request({ op: 'close', name: ts.shm.name });
        expect(seen.items).toEqual(items);
        made = await oracle.request<{ name: string }>({ op: 'create', items: seen.items });
        const back = ShareableList.attach(made.name);
        expect(tagsAs(items, back.toArray())).toEqual(items);
        back.close();
      } finally {
        ts.shm.close().unlink();
        if (made) await oracle.request({ op: 'unlink', name: made.name });
      }
    }
  });
});
