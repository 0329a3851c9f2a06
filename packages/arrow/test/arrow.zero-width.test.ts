import { describe, expect, it } from '@jest/globals';
import * as A from 'apache-arrow';
import { unlinkBlock } from '@shmbridge/core';
import { attachTable, closeTable, shareTable } from '@shmbridge/arrow';
import { python3, runPython } from '@shmbridge/testkit';

// Rows of Null columns take no bytes: a few hundred bytes of stream can claim
// 2^31 − 1 of them, and toArray() then runs out of memory building the rows.
// pyarrow calls such a stream valid, so attachTable bounds it (an option).
describe('attachTable and columns that take no bytes per row', () => {
  it("refuses pyarrow's 2^31 − 1 nulls in a few hundred bytes by default, with ERR_SHM_CORRUPT naming the option", async () => {
    const r = await runPython(python3(), `
import pyarrow as pa, shmbridge
shm, h = shmbridge.share_table(pa.table({"n": pa.nulls(2**31 - 1)}), track=False)
print(shm.name, shm.size)
shm.close()
`);
    const [name, size] = r.stdout.trim().split(' ') as [string, string];
    try {
      expect(Number(size)).toBeLessThan(1024);
      expect(() => attachTable(name)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT', message: expect.stringMatching(/claims 2147483647 rows of columns that take no bytes \(more than maxZeroWidthRows, 1048576\)/) }));
    } finally {
      unlinkBlock(name);
    }
  });

  it('reads such a table when the caller raises the bound, and shareTable writes it whatever its size', () => {
    const rows = (1 << 20) + 1;
    const { shm, handle } = shareTable(new A.Table({ n: A.vectorFromArray(new Array(rows).fill(null), new A.Null()) }));
    try {
      expect(() => attachTable(handle)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT' }));
      const t = attachTable(handle, { maxZeroWidthRows: 1 << 21 });
      expect(t.numRows).toBe(rows);
      closeTable(t);
      expect(() => attachTable(handle, { maxZeroWidthRows: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    } finally {
      shm.close().unlink();
    }
  });

  it('does not bound tables with a column that takes bytes: their buffers bound the rows', () => {
    const rows = (1 << 20) + 1;
    const { shm, handle } = shareTable(new A.Table({ n: A.vectorFromArray(new Array(rows).fill(null), new A.Null()), x: A.makeVector(new Uint8Array(rows)) }));
    try {
      const t = attachTable(handle);
      expect(t.numRows).toBe(rows);
      closeTable(t);
    } finally {
      shm.close().unlink();
    }
  });
});
