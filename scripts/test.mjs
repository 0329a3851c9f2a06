#!/usr/bin/env node
// `pnpm test`: every suite the README promises, then one summary line.
//   1. typecheck (tsc, strict) over sources, tests, examples and benches
//   2. Jest over every package (real CPython spawned inside the tests)
//   3. pytest over the Python helper (packages/python-compat/python/tests)
//   4. /dev/shm must hold exactly what it held before, and no shmbridge
//      tracker may have reported a block a test forgot to unlink.
// Arguments are passed to Jest (e.g. `pnpm test packages/core`); with
// arguments, pytest runs only if one of them names a .py file or folder.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'shmbridge-test-'));
const args = process.argv.slice(2);
const pyTests = join(root, 'packages', 'python-compat', 'python', 'tests');
const LEAK = /shmbridge: process \d+ exited without unlinking shared memory it created; unlinked:.*/g;

function run(cmd, argv, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      stream.on('data', (d) => {
        sink.write(d);
        if (capture) output += d;
      });
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}

const before = readdirSync('/dev/shm').sort();
const problems = [];
const counts = { passed: 0, failed: 0, skipped: 0 };

// 1. Types
const tsc = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json']);
if (tsc.code !== 0) problems.push('typecheck failed (tsc -p tsconfig.json)');

// 2. Jest
const jestJson = join(work, 'jest.json');
const jest = await run(process.execPath, [
  '--experimental-vm-modules', '--disable-warning=ExperimentalWarning',
  join(dirname(require.resolve('jest/package.json')), 'bin', 'jest.js'), '--json', `--outputFile=${jestJson}`, ...args,
], { capture: true });
if (existsSync(jestJson)) {
  const r = JSON.parse(readFileSync(jestJson, 'utf8'));
  counts.passed += r.numPassedTests;
  counts.failed += r.numFailedTests;
  counts.skipped += r.numPendingTests + r.numTodoTests;
  if (r.numRuntimeErrorTestSuites) problems.push(`${r.numRuntimeErrorTestSuites} Jest suite(s) failed to run`);
}
if (jest.code !== 0) problems.push(`jest exited with ${jest.code}`);

// 3. pytest
const wantPy = args.length === 0 || args.some((a) => a.endsWith('.py') || a.includes('python'));
let pytestOutput = '';
if (wantPy && existsSync(pyTests)) {
  const xml = join(work, 'pytest.xml');
  const py = await run('python3', ['-m', 'pytest', pyTests, '-q', '-p', 'no:cacheprovider', `--junitxml=${xml}`], { capture: true });
  pytestOutput = py.output;
  if (existsSync(xml)) {
    const suite = readFileSync(xml, 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '';
    const n = (k) => Number(suite.match(new RegExp(`${k}="(\\d+)"`))?.[1] ?? 0);
    counts.failed += n('failures') + n('errors');
    counts.skipped += n('skipped');
    counts.passed += n('tests') - n('failures') - n('errors') - n('skipped');
  } else problems.push('pytest produced no report (is pytest installed for python3?)');
  if (py.code !== 0) problems.push(`pytest exited with ${py.code}`);
}

// 4. Nothing left behind
await new Promise((r) => setTimeout(r, 500)); // let exiting children's trackers finish
const after = readdirSync('/dev/shm').sort();
const added = after.filter((n) => !before.includes(n));
const removed = before.filter((n) => !after.includes(n));
if (added.length || removed.length) {
  problems.push(`/dev/shm changed: left behind [${added.join(', ')}], removed [${removed.join(', ')}]`);
}
const reported = [...(jest.output + pytestOutput).matchAll(LEAK)].map((m) => m[0]);
if (reported.length) problems.push(`trackers cleaned up blocks a test leaked:\n    ${reported.join('\n    ')}`);

rmSync(work, { recursive: true, force: true });
for (const p of problems) console.error(`FAILED: ${p}`);
console.log(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(problems.length || counts.failed ? 1 : 0);
