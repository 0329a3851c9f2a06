import { describe, expect, it } from '@jest/globals';
import * as A from 'apache-arrow';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { attachTable, closeTable, isArrowStream, shareTable, tableBlock } from '@shmbridge/arrow';
import { ShareableList } from '@shmbridge/python-compat';
import { createsNoBlock, python3, runPython, startPython } from '@shmbridge/testkit';
import { columns, FIXTURES, normalize, sampleWith } from './helpers/columns.js';

const NORMALIZE = `${FIXTURES}normalize.py`;
const v = <T extends A.DataType>(type: T, values: unknown[]) => A.vectorFromArray(values as never, type);

/** Every type of the issue, with nulls; two record batches. */
const sample = (): A.Table => sampleWith(A);

describe('Arrow tables between apache-arrow and pyarrow', () => {
  it('pyarrow reads every type TS shared, with nulls and two batches; TS reads every type pyarrow wrote', async () => {
    const table = sample();
    const { shm } = shareTable(table);
    let reshared: string | undefined;
    try {
      const r = await runPython(python3(), `import runpy, sys; sys.argv = ['normalize.py', ${JSON.stringify(shm.name)}, 'reshare']; runpy.run_path(${JSON.stringify(NORMALIZE)}, run_name='__main__')`);
      const seen = JSON.parse(r.stdout) as { schema: string[][]; batches: number; columns: Record<string, unknown[]>; reshared: { name: string } };
      reshared = seen.reshared.name;
      expect(seen.batches).toBe(2);
      expect(seen.schema.map(([n]) => n)).toEqual(table.schema.fields.map((f) => f.name));
      expect(seen.columns).toEqual(columns(table));
      // The block pyarrow wrote, read by TS.
      const back = attachTable(seen.reshared as never);
      expect(back.batches.length).toBe(2);
      expect(columns(back)).toEqual(columns(table));
      expect(back.schema.fields.map((f) => String(f.type))).toEqual(table.schema.fields.map((f) => String(f.type)));
      closeTable(back);
    } finally {
      shm.close().unlink();
      if (reshared) SharedMemory.attach(reshared).close().unlink();
    }
  });

  it('aligns every buffer of a TS table to 64 bytes, and sizes the block exactly', async () => {
    const { shm } = shareTable(sample());
    try {
      const r = await runPython(python3(), `
import pyarrow as pa, shmbridge, sys, json
s = shmbridge.attach(sys.argv[1])
buf = pa.py_buffer(s.buf)
reader = pa.ipc.open_stream(buf)
t = reader.read_all()
offs = [b.address - buf.address for batch in t.to_batches() for col in batch.columns for b in col.buffers() if b is not None and b.size]
print(json.dumps({"misaligned": [o for o in offs if o % 64], "count": len(offs), "size": s.size}))
del t, reader, buf
s.close()
`, { args: [shm.name] });
      const out = JSON.parse(r.stdout);
      expect(out.count).toBeGreaterThan(40);
      expect(out.misaligned).toEqual([]);
      expect(out.size).toBe(shm.size);
    } finally {
      shm.close().unlink();
    }
  });

  it('is zero-copy both ways: a write through one side shows in the other\'s table', async () => {
    const { shm, handle } = shareTable(new A.Table({ x: v(new A.Float64(), [1.5, 2.5, 3.5]) }));
    const py = startPython(python3(), `
import shmbridge, sys, struct
t = shmbridge.table(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
print(t.column("x").to_pylist(), flush=True)   # after Node's write
s = shmbridge.attach(sys.argv[1])
at = bytes(s.buf).index(struct.pack("<d", 3.5))
s.buf[at:at + 8] = struct.pack("<d", -1.0)       # Python writes; Node's table sees it
s.close()
print("written", flush=True)
sys.stdin.readline()
`, { args: [shm.name] });
    try {
      await py.firstLine();
      const t = attachTable(handle);
      const values = t.getChild('x')!.data[0]!.values as Float64Array;
      expect(values.buffer).toBe(tableBlock(t)!.view(Uint8Array).buffer); // a view of the mapping itself
      values[1] = 9.5; // Node writes into the block
      py.send('\n');
      const out = await py.waitForOutput(/written/);
      expect(out).toContain('[1.5, 9.5, 3.5]');
      expect([...t.getChild('x')!]).toEqual([1.5, 9.5, -1]);
      closeTable(t);
      expect([...t.getChild('x')!.data[0]!.values]).toEqual([0, 0, 0]); // no longer the block: zeros, never dangling
    } finally {
      py.send('\n');
      await py.done;
      shm.close().unlink();
    }
  });
});

/**
 * Attaches a stream written into a fresh block and reads every value of every
 * column. Values apache-arrow cannot turn into JS (an int64 date past 2^53)
 * read as 'unsafe'; any other error from reading is a validator miss and throws.
 */
function attach(bytes: Buffer): { result: string; columns?: Record<string, unknown[]> } {
  const b = SharedMemory.create(Math.max(bytes.length, 1), { track: false });
  b.buf.set(bytes);
  try {
    let t: A.Table;
    try {
      t = attachTable(b.name);
    } catch (err) {
      if (!(err as { code?: string }).code) throw err; // attach itself only ever refuses with a code
      return { result: (err as { code: string }).code };
    }
    const out: Record<string, unknown[]> = {};
    for (const f of t.schema.fields) {
      const column = t.getChild(f.name)!;
      out[f.name] = Array.from({ length: column.length }, (_, i) => {
        try {
          return normalize(column.get(i));
        } catch (err) {
          if (err instanceof TypeError && /is not safe to convert to a number/.test(err.message)) return 'unsafe';
          throw err;
        }
      });
    }
    closeTable(t);
    return { result: 'read', columns: out };
  } finally {
    b.close().unlink();
  }
}

describe('attachTable on bad blocks', () => {
  it('refuses every truncation of a valid stream with ERR_SHM_CORRUPT', () => {
    const { shm } = shareTable(sample());
    const valid = Buffer.from(shm.buf);
    shm.close().unlink();
    for (const cut of [1, 7, 8, 100, 500, valid.length >> 1, valid.length - 8, valid.length - 1]) {
      expect({ cut, result: attach(valid.subarray(0, cut)).result }).toEqual({ cut, result: 'ERR_SHM_CORRUPT' });
    }
  });

  it('1,500 randomly damaged streams: each is refused with ERR_SHM_CORRUPT, or read in full exactly as pyarrow reads it', async () => {
    // A bounds error from inside apache-arrow, or a value that differs from
    // pyarrow's, means the validator let a broken stream through.
    const { shm } = shareTable(sample());
    const valid = Buffer.from(shm.buf);
    shm.close().unlink();
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const accepted: Array<{ hex: string; columns: Record<string, unknown[]> }> = [];
    let refused = 0;
    for (let i = 0; i < 1500; i++) {
      const b = Buffer.from(valid);
      for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      const r = attach(b);
      if (r.result === 'read') accepted.push({ hex: b.toString('hex'), columns: r.columns! });
      else {
        expect(r.result).toBe('ERR_SHM_CORRUPT');
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(500);
    expect(accepted.length).toBeGreaterThan(200);
    const py = startPython(python3(), `import runpy, sys; sys.path.insert(0, ${JSON.stringify(FIXTURES)}); runpy.run_path(${JSON.stringify(`${FIXTURES}damaged.py`)}, run_name='__main__')`);
    py.send(accepted.map((a) => a.hex).join('\n') + '\n');
    py.child.stdin!.end();
    const seen = (await py.done).stdout.trim().split('\n').map((l) => JSON.parse(l) as { open: string | null; columns: Record<string, unknown[] | null> });
    expect(seen).toHaveLength(accepted.length);
    let compared = 0;
    const problems: unknown[] = [];
    accepted.forEach((a, i) => {
      const p = seen[i]!;
      if (p.open) return void problems.push({ stream: i, pyarrowRefuses: p.open });
      for (const [name, values] of Object.entries(p.columns)) {
        if (values === null) continue; // pyarrow's full validation refuses the column (e.g. invalid UTF-8): not comparable
        compared++;
        if (JSON.stringify(a.columns[name]) !== JSON.stringify(values)) problems.push({ stream: i, column: name, ours: a.columns[name], pyarrow: values });
      }
    });
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(4000);
  });

  it('tells an Arrow block from a list, a tensor and a raw block by its first bytes', () => {
    const { shm } = shareTable(sample());
    const sl = new ShareableList([1]);
    const t = Tensor.create({ dtype: 'uint8', shape: [100] });
    const raw = SharedMemory.create(64);
    try {
      expect([shm, sl.shm, t.shm, raw].map((s) => isArrowStream(s.view(Uint8Array)))).toEqual([true, false, false, false]);
    } finally {
      for (const s of [shm, sl.shm, t.shm, raw]) s.close().unlink();
    }
  });

  it('validates a handle before any syscall', () => {
    expect(() => attachTable({ name: 5 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HANDLE' }));
    expect(() => attachTable({ name: 'x', kind: 'tensor' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_HANDLE' }));
    expect(() => attachTable('shmbridge_no_such_table')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('refuses to share what is not a table, creating nothing', () => {
    expect(createsNoBlock(() => {
      for (const bad of [123, null, {}, [], { schema: {}, batches: 'x' }]) {
        expect(() => shareTable(bad as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
      }
    })).toBe(true);
  });
});
