import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromArrays } from 'apache-arrow';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { shareTable } from '@shmbridge/arrow';
import { ShareableList } from '@shmbridge/python-compat';
import { run, type BlockInfo } from '@shmbridge/cli';
import { entries, python3, runPython, shmExists } from '@shmbridge/testkit';

/** Who we are, asked of id(1) rather than of the code under test. */
function currentUser(): string {
  return spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
}

function cli(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = run(argv, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

interface Names {
  raw: string;
  list: string;
  tensor: string;
  table: string;
  pyList: string;
  pyTable: string;
}

/** One block of each kind made by TS, plus a list and a table CPython made; all unlinked after. */
async function withBlocks(test: (names: Names) => void | Promise<void>): Promise<void> {
  const raw = SharedMemory.create(100);
  raw.buf.write('hello');
  const sl = new ShareableList(['a', 1, 2.5, null, true, 2n ** 62n]);
  const t = Tensor.create({ dtype: 'float32', shape: [2, 3] });
  t.data.set([1, 2, 3, 4, 5, 6]);
  const { shm: table } = shareTable(tableFromArrays({ x: Float64Array.from([1.5, 2.5]) }));
  const made: string[] = [];
  try {
    // CPython's own ShareableList and a pyarrow stream, both handed over untracked
    const r = await runPython(python3(), `
import shmbridge, pyarrow as pa
from multiprocessing import shared_memory, resource_tracker
sl = shared_memory.ShareableList(["py", 7])
resource_tracker.unregister(sl.shm._name, "shared_memory")
shm, h = shmbridge.share_table(pa.table({"n": [1, 2, 3]}), track=False)
print(sl.shm.name, shm.name)
`);
    const [pyList, pyTable] = r.stdout.trim().split(' ') as [string, string];
    made.push(pyList, pyTable);
    await test({ raw: raw.name, list: sl.shm.name, tensor: t.shm.name, table: table.name, pyList, pyTable });
  } finally {
    raw.close().unlink();
    sl.shm.close().unlink();
    t.close().shm.unlink();
    table.close().unlink();
    for (const n of made) if (shmExists(n)) SharedMemory.attach(n).close().unlink();
  }
}

describe('shmbridge ls', () => {
  it('lists every block with size, owner, age and what it holds, whoever made it', async () => {
    await withBlocks((n) => {
      const { code, out } = cli('ls', '--json');
      expect(code).toBe(0);
      const blocks = JSON.parse(out) as BlockInfo[];
      // Other processes (other tests, other users) may hold blocks too: check ours, and the order.
      const ours = Object.values(n);
      const names = blocks.map((b) => b.name);
      expect(names).toEqual(expect.arrayContaining(ours));
      expect(names).toEqual([...names].sort());
      const byName = Object.fromEntries(blocks.map((b) => [b.name, b]));
      expect(byName[n.raw]).toMatchObject({ size: 100, kind: 'raw' });
      expect(byName[n.list]!.kind).toBe('ShareableList');
      expect(byName[n.pyList]!.kind).toBe('ShareableList');
      expect(byName[n.tensor]!.kind).toBe('tensor');
      expect(byName[n.table]!.kind).toBe('arrow');
      expect(byName[n.pyTable]!.kind).toBe('arrow');
      for (const name of ours) {
        expect(byName[name]!.owner).toBe(currentUser());
        expect(byName[name]!.ageSeconds).toBeGreaterThanOrEqual(0);
        expect(byName[name]!.ageSeconds).toBeLessThan(600); // made by this test a moment ago
      }
      const text = cli('ls').out.split('\n');
      expect(text[0]).toMatch(/^NAME\s+SIZE\s+OWNER\s+AGE\s+KIND$/);
      expect(text.find((l) => l.startsWith(n.raw))).toMatch(new RegExp(`^${n.raw}\\s+100\\s+\\S+\\s+\\d+s\\s+raw$`));
    });
  });

  it('calls a zero-filled block raw, not an empty ShareableList', () => {
    const zero = SharedMemory.create(4096);
    try {
      expect(cli('show', zero.name, '--json').out).toContain('"kind":"raw"');
    } finally {
      zero.close().unlink();
    }
  });
});

describe('shmbridge show', () => {
  it('shows a list\'s items, a table\'s schema and rows, a tensor\'s dtype and values, a raw block\'s bytes', async () => {
    await withBlocks((n) => {
      const show = (name: string) => JSON.parse(cli('--json', 'show', name).out);
      expect(show(n.list)).toMatchObject({ kind: 'ShareableList', length: 6, format: '8sqdxxxxxx?xxxxxxxx?q', items: ['a', 1, 2.5, null, true, String(2n ** 62n)] });
      expect(show(n.pyList)).toMatchObject({ kind: 'ShareableList', items: ['py', 7] });
      expect(show(n.table)).toMatchObject({ kind: 'arrow', rows: 2, batches: 1, schema: [{ name: 'x', type: 'Float64' }], firstRows: [{ x: 1.5 }, { x: 2.5 }] });
      expect(show(n.pyTable)).toMatchObject({ kind: 'arrow', rows: 3, firstRows: [{ n: '1' }, { n: '2' }, { n: '3' }] });
      expect(show(n.tensor)).toMatchObject({ kind: 'tensor', dtype: 'float32', shape: [2, 3], firstValues: [1, 2, 3, 4, 5, 6] });
      expect(show(n.raw)).toMatchObject({ kind: 'raw', size: 100, firstBytes: `${Buffer.from('hello').toString('hex')}${'00'.repeat(59)}` });
      const text = cli('show', n.list).out;
      expect(text).toContain(`${n.list}: ShareableList, `);
      expect(text).toContain("  [0] 'a'");
    });
  });

  it('reports a missing block with exit code 1 and its errno', () => {
    const r = cli('show', 'shmbridge_cli_no_such_block');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^shmbridge show: ENOENT/);
  });
});

describe('shmbridge rm', () => {
  it('unlinks the blocks it is given, and says which ones it could not', () => {
    const a = SharedMemory.create(10, { track: false }).close();
    const b = SharedMemory.create(10, { track: false }).close();
    const r = cli('rm', a.name, 'shmbridge_cli_no_such_block', b.name);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`removed ${a.name}\nremoved ${b.name}\n`);
    expect(r.err).toMatch(/ENOENT.*shmbridge_cli_no_such_block/);
    expect(shmExists(a.name) || shmExists(b.name)).toBe(false);
  });
});

describe('the shmbridge command', () => {
  it('runs as a bin: usage errors exit 2, --help exits 0, --json output parses', () => {
    const bin = (...args: string[]) => spawnSync(process.execPath, [entries.cli, ...args], { encoding: 'utf8' });
    expect(bin().status).toBe(2);
    expect(bin('bogus').stderr).toContain('unknown command "bogus"');
    expect(bin('--help')).toMatchObject({ status: 0 });
    expect(bin('--help').stdout).toContain('usage: shmbridge');
    const shm = SharedMemory.create(64);
    try {
      const r = bin('--json', 'ls');
      expect(r.status).toBe(0);
      expect((JSON.parse(r.stdout) as BlockInfo[]).find((b) => b.name === shm.name)).toMatchObject({ size: 64, kind: 'raw' });
    } finally {
      shm.close().unlink();
    }
  });
});

describe('shmbridge python-path', () => {
  it('prints the folder of the Python helper inside @shmbridge/python-compat, which Python imports shmbridge from', async () => {
    const { code, out } = cli('python-path');
    expect(code).toBe(0);
    const dir = out.trim();
    expect(out).toBe(`${dir}\n`);
    expect(dir).toBe(join(dirname(createRequire(import.meta.url).resolve('@shmbridge/python-compat/package.json')), 'python'));
    expect(existsSync(join(dir, 'pyproject.toml'))).toBe(true);
    const r = await runPython(python3(), 'import shmbridge; print(shmbridge.__file__)', { env: { PYTHONPATH: dir } });
    expect(r.stdout.trim()).toBe(join(dir, 'shmbridge', '__init__.py'));
    expect(cli('--json', 'python-path').out).toBe(`${JSON.stringify(dir)}\n`);
    expect(cli('python-path', 'extra')).toMatchObject({ code: 2, err: expect.stringContaining('takes no arguments') });
  });
});

describe('pnpm -s shmbridge (the README\'s command in the workspace)', () => {
  it('prints only the command\'s output on stdout: --json parses', () => {
    const shm = SharedMemory.create(64);
    try {
      const root = fileURLToPath(new URL('../../..', import.meta.url));
      const r = spawnSync('pnpm', ['-s', 'shmbridge', 'ls', '--json'], { cwd: root, encoding: 'utf8' });
      expect(r.error).toBeUndefined(); // pnpm on PATH, as for `pnpm test`
      expect(r.status).toBe(0);
      expect((JSON.parse(r.stdout) as BlockInfo[]).find((b) => b.name === shm.name)).toMatchObject({ size: 64, kind: 'raw' });
    } finally {
      shm.close().unlink();
    }
  });
});
