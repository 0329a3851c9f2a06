import { describe, expect, it } from '@jest/globals';
import * as A from 'apache-arrow';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { unlinkBlock } from '@shmbridge/core';
import { attachTable, closeTable, shareTable } from '@shmbridge/arrow';
import { createsNoBlock, entries, python3, runPython } from '@shmbridge/testkit';
import { columns, FIXTURES, sampleWith as sample } from './helpers/columns.js';

// Tables made by another apache-arrow module instance than ours. A CommonJS
// program gets apache-arrow's CJS build; @shmbridge/arrow imports the ESM
// build. Before the fix, shareTable wrote such tables with a broken schema,
// silently: pyarrow refused dictionaries ("Unexpected null field
// DictionaryEncoding.indexType") and read Float64/Utf8/Int32 columns as
// other types.
const NORMALIZE = `${FIXTURES}normalize.py`;

/** Runs a fixture program with node, as a user would (its cwd is this package), and returns the block it shared. */
async function shareFrom(program: string): Promise<string> {
  void entries.arrow; // dist/ must be built and current: the programs require it by name
  const { stdout } = await promisify(execFile)(process.execPath, [`${FIXTURES}${program}`], { cwd: FIXTURES });
  return stdout.trim();
}

describe('shareTable with tables from any apache-arrow instance', () => {
  const expected = sample(A);

  for (const program of ['share-cjs.cjs', 'share-esm.mjs']) {
    it(`writes every type correctly from ${program.endsWith('.cjs') ? 'a CommonJS' : 'an ES module'} program: pyarrow and attachTable read it back`, async () => {
      const name = await shareFrom(program);
      try {
        const r = await runPython(python3(), `import runpy, sys; sys.argv = ['normalize.py', ${JSON.stringify(name)}]; runpy.run_path(${JSON.stringify(NORMALIZE)}, run_name='__main__')`);
        const seen = JSON.parse(r.stdout) as { schema: string[][]; batches: number; columns: Record<string, unknown[]> };
        expect(seen.batches).toBe(2);
        expect(seen.schema).toEqual([
          ['i8', 'int8'], ['i16', 'int16'], ['i32', 'int32'], ['i64', 'int64'], ['u8', 'uint8'], ['u16', 'uint16'], ['u32', 'uint32'], ['u64', 'uint64'],
          ['f32', 'float'], ['f64', 'double'], ['utf8', 'string'], ['bin', 'binary'], ['bool', 'bool'], ['day', 'date32[day]'], ['dms', 'date64[ms]'],
          ['tms', 'timestamp[ms]'], ['list', 'list<item: int32>'], ['struct', 'struct<a: string, b: double>'],
          ['dict', 'dictionary<values=string, indices=int32, ordered=0>'], ['nul', 'null'],
        ]);
        expect(seen.columns).toEqual(columns(expected));
        const back = attachTable(name);
        expect(back.schema.fields.map((f) => String(f.type))).toEqual(expected.schema.fields.map((f) => String(f.type)));
        expect(columns(back)).toEqual(columns(expected));
        closeTable(back);
      } finally {
        unlinkBlock(name);
      }
    });
  }

  it('refuses a column type it cannot write before any block exists', () => {
    // What a table from a newer apache-arrow could hold: a type this one has no class for (RunEndEncoded).
    const foreign = {
      schema: { fields: [{ name: 'runs', type: { typeId: 22, children: [], toString: () => 'RunEndEncoded' }, nullable: true, metadata: new Map() }], metadata: new Map() },
      batches: [],
    };
    expect(createsNoBlock(() => {
      expect(() => shareTable(foreign as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/column 'runs' of a type shmbridge cannot share \(RunEndEncoded/) }));
    })).toBe(true);
  });

  it('never hands out a block that does not read back: data that lies about its length is refused and unlinked', () => {
    // A Utf8 column whose offsets point past its 3 bytes of values: apache-arrow writes what the
    // offsets cover, which is not there, so the block would not read back.
    const lying = A.makeData({ type: new A.Utf8(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 4096]), data: new Uint8Array([97, 98, 99]) });
    const table = new A.Table({ s: new A.Vector([lying]) });
    let err: unknown;
    expect(createsNoBlock(() => {
      try {
        shareTable(table).shm.close();
      } catch (e) {
        err = e;
      }
    })).toBe(true);
    expect(err).toEqual(expect.objectContaining({ code: expect.stringMatching(/^ERR_(SHM_CORRUPT|INVALID_ARG_VALUE)$/) }));
  });
});
