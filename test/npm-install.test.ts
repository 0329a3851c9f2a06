/**
 * The packages as a user gets them: every public package of the workspace
 * (packages/* without "private": true) packed with `pnpm pack`, installed
 * with npm into a new project in a 0700 directory, with a PATH that holds
 * node, npm and sh but no compiler — so @shmbridge/core must install from its
 * prebuilt binaries. Then the project uses them the ways a user would.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SharedMemory } from '@shmbridge/core';
import { finished, firstLine, python3, runPython } from '@shmbridge/testkit';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);

interface Pkg {
  dir: string;
  name: string;
  dependencies: Record<string, string>;
}

/** The packages npm users get: every packages/* that is not private. */
function publicPackages(): Pkg[] {
  return readdirSync(join(root, 'packages'))
    .map((d) => join(root, 'packages', d))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, ...JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter((p) => !p.private)
    .map((p) => ({ dir: p.dir, name: p.name, dependencies: p.dependencies ?? {} }));
}

function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
}

/** `spawnSync`'s result as a string, or a thrown error with everything it printed. */
function ok(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const packages = publicPackages();
let tmp: string;
let project: string;
/** The only commands a user of this project has here: node, npm, npx, sh. */
let env: NodeJS.ProcessEnv;
let install: SpawnSyncReturns<string>;

function inProject(cmd: string, args: string[], input?: string) {
  return spawnSync(cmd, args, { cwd: project, env, encoding: 'utf8', input, timeout: 60_000 });
}

beforeAll(async () => {
  for (const p of packages) {
    if (!existsSync(join(p.dir, 'dist')) || newest(join(p.dir, 'src')) > newest(join(p.dir, 'dist'))) {
      throw new Error(`${p.name}: dist/ is missing or older than src/: run \`pnpm build\` (pnpm test does it)`);
    }
  }
  tmp = mkdtempSync(join(tmpdir(), 'shmbridge-npm-')); // mkdtemp makes it 0700, like a home directory
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  const npmCli = realpathSync(ok(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }), 'command -v npm').trim());
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync(npmCli, join(bin, 'npm'));
  symlinkSync(join(dirname(npmCli), 'npx-cli.js'), join(bin, 'npx'));
  symlinkSync(ok(spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }), 'command -v sh').trim(), join(bin, 'sh'));
  // A user's shell: none of the variables pnpm sets for the scripts it runs.
  env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|PNPM_|INIT_CWD$|NODE_OPTIONS$)/.test(k)));
  env.PATH = bin;

  // pnpm pack (in parallel): workspace:* ranges become versions, core's prepack adds its prebuilds.
  const tarballs = join(tmp, 'tarballs');
  await Promise.all(packages.map((p) => new Promise<void>((resolve, reject) => {
    const child = spawn('pnpm', ['pack', '--pack-destination', tarballs], { cwd: p.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    finished(child, 120_000).then((r) => (r.status === 0 ? resolve() : reject(new Error(`pnpm pack in ${p.dir}: ${r.stdout}\n${r.stderr}`))), reject);
  })));

  project = join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  const arrowRange = packages.find((p) => p.name === '@shmbridge/arrow')!.dependencies['apache-arrow'];
  install = inProject('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...readdirSync(tarballs).map((t) => join(tarballs, t)), `apache-arrow@${arrowRange}`, '@types/node@^20']);
}, 300_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm install of the packed packages, with no compiler', () => {
  it('finds every public package, and runs in a 0700 directory with no compiler or make on PATH', () => {
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(['@shmbridge/core', '@shmbridge/python-compat', '@shmbridge/arrow', '@shmbridge/cli']));
    expect(statSync(tmp).mode & 0o777).toBe(0o700);
    const compilers = inProject('sh', ['-c', 'command -v g++ gcc cc c++ clang make python3; echo "found: $?"']);
    expect(compilers.stdout.trim()).toBe('found: 127');
  });

  it('installs @shmbridge/core from its prebuilt binaries: node-gyp never runs', () => {
    expect(install.stderr).not.toMatch(/gyp (info|ERR)|building the native addon/);
    expect(install.status).toBe(0);
    const core = join(project, 'node_modules', '@shmbridge', 'core');
    expect(existsSync(join(core, 'build'))).toBe(false);
    const loaded = ok(inProject('node', ['-e', `console.log(require('node-gyp-build').resolve(${JSON.stringify(core)}))`]), 'node-gyp-build');
    expect(loaded.trim()).toBe(join(core, 'prebuilds', `linux-${process.arch}`, `node.abi${process.versions.modules}.glibc.node`));
    // A tracked create starts the prebuilt tracker (it must be executable after npm's unpacking).
    const r = inProject('node', ['-e', `const { SharedMemory } = require('@shmbridge/core');
      const s = SharedMemory.create(64); console.log(s.tracked, s.size); s.close().unlink();`]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('true 64');
    // Installs that skip install scripts (pnpm's default, --ignore-scripts) leave the tracker as
    // pnpm pack stored it, 0644: the loader makes it executable when it first starts it.
    const tracker = join(core, 'prebuilds', `linux-${process.arch}`, 'shmbridge-tracker');
    chmodSync(tracker, 0o644);
    const again = inProject('node', ['-e', `const { SharedMemory } = require('@shmbridge/core'); SharedMemory.create(8).close().unlink(); console.log('ok');`]);
    expect({ stderr: again.stderr, stdout: again.stdout.trim(), mode: statSync(tracker).mode & 0o777 }).toEqual({ stderr: '', stdout: 'ok', mode: 0o755 });
  });

  it('require()s and imports every public package by name, with the same exports', () => {
    const names = JSON.stringify(packages.map((p) => p.name));
    writeFileSync(join(project, 'load.cjs'), `for (const n of ${names}) console.log(n, Object.keys(require(n)).sort().join(','));`);
    writeFileSync(join(project, 'load.mjs'), `for (const n of ${names}) console.log(n, Object.keys(await import(n)).filter((k) => k !== 'default' && k !== 'module.exports').sort().join(','));`);
    const cjs = inProject('node', ['load.cjs']);
    const esm = inProject('node', ['load.mjs']);
    expect(cjs.stderr + esm.stderr).toBe('');
    const lines = cjs.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(packages.map((p) => p.name));
    for (const l of lines) expect(l.split(' ')[1]!.split(',').length).toBeGreaterThan(0);
    expect(esm.stdout).toBe(cjs.stdout);
  });

  it('type-checks a strict TypeScript program using the main types (and rejects misuse)', () => {
    writeFileSync(join(project, 'use.ts'), `
import { SharedMemory, Tensor, type SharedMemoryHandle } from '@shmbridge/core';
import { ShareableList, SharedMemoryManager } from '@shmbridge/python-compat';
import { attachTable, shareTable } from '@shmbridge/arrow';
import { run, type BlockInfo } from '@shmbridge/cli';
import { tableFromArrays } from 'apache-arrow';

const shm = SharedMemory.create(1024);
const handle: SharedMemoryHandle = shm.toJSON();
const t = Tensor.create({ dtype: 'float32', shape: [2, 3] });
const shape: readonly number[] = t.shape;
const sl = new ShareableList(['a', 1, 2.5, null, true]);
const first: unknown = sl.get(0);
const { shm: block } = shareTable(tableFromArrays({ x: Float64Array.from([1, 2]) }));
const rows: number = attachTable(block.name).numRows;
const code: number = run(['ls'], { out: () => {}, err: () => {} });
const blocks: BlockInfo[] = [];
async function manager(): Promise<void> {
  await using smm = await SharedMemoryManager.start();
  const b: SharedMemory = await smm.SharedMemory(64);
  b.close();
}
// Each package's types are real (not any): misuse does not compile.
// @ts-expect-error a size is a number
SharedMemory.create('8');
// @ts-expect-error Tensor.create needs a dtype
Tensor.create({ shape: [2] });
// @ts-expect-error ShareableList takes a sequence of values
new ShareableList(42);
// @ts-expect-error shareTable takes an apache-arrow Table
shareTable({ x: [1] });
// @ts-expect-error run takes the argument list
run('ls', { out: () => {}, err: () => {} });
export { handle, shape, first, rows, code, blocks, manager };
`);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      // skipLibCheck as `tsc --init` sets it: checking every .d.ts of apache-arrow and @types/node takes 3x as long
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], lib: ['ES2022', 'ESNext.Disposable'] },
      files: ['use.ts'],
    }));
    const r = inProject('node', [require.resolve('typescript/bin/tsc'), '-p', '.']);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('npx shmbridge lists blocks and prints where its Python helper is, which Python imports', async () => {
    const shm = SharedMemory.create(100);
    try {
      const ls = inProject('npx', ['shmbridge', '--json', 'ls']);
      expect(ls.stderr).toBe('');
      expect((JSON.parse(ls.stdout) as Array<{ name: string }>).find((b) => b.name === shm.name)).toMatchObject({ size: 100, kind: 'raw' });
      const text = inProject('npx', ['shmbridge', 'ls']);
      expect(text.stdout).toMatch(new RegExp(`^${shm.name}\\s+100\\s`, 'm'));
    } finally {
      shm.close().unlink();
    }
    const dir = ok(inProject('npx', ['shmbridge', 'python-path']), 'npx shmbridge python-path').trim();
    expect(dir).toBe(join(project, 'node_modules', '@shmbridge', 'python-compat', 'python'));
    const py = await runPython(python3(), 'import shmbridge; print(shmbridge.__file__)', { env: { PYTHONPATH: dir } });
    expect(py.stdout.trim()).toBe(join(dir, 'shmbridge', '__init__.py'));
  });

  it('a CommonJS program shares an Arrow table made with its own require(\'apache-arrow\'), and pyarrow reads it', async () => {
    writeFileSync(join(project, 'share.cjs'), `
const arrow = require('apache-arrow');
const { shareTable } = require('@shmbridge/arrow');
const table = arrow.tableFromArrays({ x: Float64Array.from([1.5, 2.5, 4]), city: ['Lyon', 'Oslo', 'Kyoto'] });
const { shm } = shareTable(table);
console.log(shm.name);
process.stdin.once('data', () => shm.close().unlink());
`);
    const child = spawn('node', ['share.cjs'], { cwd: project, env, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const name = await firstLine(child);
      const dir = join(project, 'node_modules', '@shmbridge', 'python-compat', 'python');
      const r = await runPython(python3(), `
import json, sys, shmbridge
t = shmbridge.table(sys.argv[1])
print(json.dumps({"schema": [str(f.type) for f in t.schema], "rows": t.to_pydict()}))
`, { args: [name], env: { PYTHONPATH: dir }, allowFailure: true });
      expect(r.stderr).toBe('');
      // apache-arrow's tableFromArrays dictionary-encodes strings
      expect(JSON.parse(r.stdout)).toEqual({ schema: ['double', 'dictionary<values=string, indices=int32, ordered=0>'], rows: { x: [1.5, 2.5, 4], city: ['Lyon', 'Oslo', 'Kyoto'] } });
    } finally {
      child.stdin.end('\n');
      const done = await finished(child);
      expect(done.stderr).toBe('');
      expect(done.status).toBe(0);
    }
  });
});
