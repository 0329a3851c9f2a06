#!/usr/bin/env node
// `pnpm test`: every suite the README promises, then one summary line.
//   1. typecheck (tsc, strict) over sources, tests, examples and benches
//   2. Jest over every package (real CPython spawned inside the tests)
//   3. pytest over the Python helper (packages/python-compat/python/tests)
//   4. /dev/shm must hold exactly what it held before, and no tracker
//      (shmbridge's or CPython's) may have reported a block a test forgot to
//      unlink (scripts/shm-guard.mjs).
// They run side by side: the tests mostly wait for the CPython and Node
// children they spawn, so on 2 cores lanes in parallel take about half the
// time. Each Jest shard and pytest run in a lane: a mount namespace of its own
// with a fresh /dev/shm (unshare -m + tmpfs), so every test file still has
// /dev/shm to itself and its children, as the tests assume (several compare
// all of /dev/shm before and after a call); a lane must end with its /dev/shm
// empty. Where unshare is refused (no root, no user namespaces), Jest and then
// pytest run one after the other in this /dev/shm.
// Python runs from the project's virtualenv (.venv, README "Try it").
// Arguments are passed to Jest (e.g. `pnpm test packages/core`); with
// arguments, pytest runs only if one of them names a .py file or folder.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { leakProblems, snapshot, SHM_DIR } from './shm-guard.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'shmbridge-test-'));
const args = process.argv.slice(2);
const pyTests = join(root, 'packages', 'python-compat', 'python', 'tests');
const venvPython = join(root, '.venv', 'bin', 'python3');
const isolated = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /dev/shm'], { stdio: 'ignore' }).status === 0;
const JEST_LANES = isolated ? 2 : 1;

// `quietStdout`: stdout is kept (Jest's --json report), not echoed;
// `quiet`: nothing is echoed (the caller prints `output` when it wants).
function run(cmd, argv, { capture = false, quietStdout = false, quiet = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stdout = '';
    for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]]) {
      stream.on('data', (d) => {
        if (stream === child.stdout && quietStdout) {
          stdout += d;
          return;
        }
        if (!quiet) sink.write(d);
        if (capture) output += d;
      });
    }
    child.on('error', (err) => resolve({ code: 127, output: String(err), stdout }));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output, stdout }));
  });
}

const LEFT = /^shmbridge lane (.+) left in its \/dev\/shm: (.*)$/gm;

/** Runs a command in a lane of its own (see above), or as it is where lanes cannot be had. */
function inLane(name, cmd, argv, options) {
  if (!isolated) return run(cmd, argv, options);
  return run('unshare', ['-m', 'sh', '-c',
    'mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 97; "$@"; code=$?; sleep 0.5; ' +
    `left=$(ls -A /dev/shm | tr '\\n' ' '); [ -z "$left" ] || echo "shmbridge lane ${name} left in its /dev/shm: $left" >&2; exit $code`,
  'sh', cmd, ...argv], options);
}

const before = snapshot();
const problems = [];
const counts = { passed: 0, failed: 0, skipped: 0 };

// 1. Types (printed once the tests are done)
const tsc = run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'], { capture: true, quiet: true });

// 2. Jest: one shard per lane (balanced by scripts/jest/sequencer.js), one
//    file at a time; --json: the report on stdout, everything else on stderr.
const jestArgs = ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning',
  join(dirname(require.resolve('jest/package.json')), 'bin', 'jest.js'), '--json', '--runInBand', ...args];
const jestRuns = Array.from({ length: JEST_LANES }, (_, k) => JEST_LANES === 1
  ? run(process.execPath, jestArgs, { capture: true, quietStdout: true })
  : inLane(`jest ${k + 1}`, process.execPath, [...jestArgs, `--shard=${k + 1}/${JEST_LANES}`, '--passWithNoTests'], { capture: true, quietStdout: true }));

// 3. pytest: a lane of its own beside Jest's, else after Jest in this /dev/shm.
const wantPy = args.length === 0 || args.some((a) => a.endsWith('.py') || a.includes('python'));
const xml = join(work, 'pytest.xml');
const pytestArgs = ['-m', 'pytest', pyTests, '-q', '-p', 'no:cacheprovider', `--junitxml=${xml}`];
const pytest = async () => {
  if (!wantPy || !existsSync(pyTests)) return undefined;
  if (!existsSync(venvPython)) {
    problems.push(`pytest needs the project's virtualenv ${venvPython}: python3 -m venv .venv && .venv/bin/pip install --retries 0 pytest numpy pyarrow pandas torch`);
    return undefined;
  }
  if (isolated) return inLane('pytest', venvPython, pytestArgs, { capture: true, quiet: true });
  await Promise.all(jestRuns);
  return run(venvPython, pytestArgs, { capture: true, quiet: true });
};
const [jests, py, types] = await Promise.all([Promise.all(jestRuns), pytest(), tsc]);

process.stdout.write(types.output);
if (types.code !== 0) problems.push('typecheck failed (tsc -p tsconfig.json)');

let jestTests = 0;
jests.forEach((lane, k) => {
  const which = JEST_LANES > 1 ? ` (lane jest ${k + 1} of ${JEST_LANES})` : '';
  const r = (() => {
    try {
      return JSON.parse(lane.stdout);
    } catch {
      return undefined;
    }
  })();
  if (r) {
    jestTests += r.numTotalTests;
    counts.passed += r.numPassedTests;
    counts.failed += r.numFailedTests;
    counts.skipped += r.numPendingTests + r.numTodoTests;
    if (r.numRuntimeErrorTestSuites) problems.push(`${r.numRuntimeErrorTestSuites} Jest suite(s) failed to run${which}`);
  } else problems.push(`jest wrote no report${which}`);
  if (lane.code !== 0) problems.push(`jest exited with ${lane.code}${which}`);
});
if (!jestTests) problems.push('Jest ran no test');

if (py) {
  process.stdout.write(py.output);
  if (existsSync(xml)) {
    const suite = readFileSync(xml, 'utf8').match(/<testsuite [^>]*>/)?.[0] ?? '';
    const n = (k) => Number(suite.match(new RegExp(`${k}="(\\d+)"`))?.[1] ?? 0);
    counts.failed += n('failures') + n('errors');
    counts.skipped += n('skipped');
    counts.passed += n('tests') - n('failures') - n('errors') - n('skipped');
  } else problems.push(`pytest produced no report (is pytest installed in ${venvPython}?)`);
  if (py.code !== 0) problems.push(`pytest exited with ${py.code}`);
}

// 4. Nothing left behind: in each lane's /dev/shm, in this one, and no tracker cleaning up after a test
const output = [...jests, py].filter(Boolean).map((r) => r.output).join('');
for (const [, lane, left] of output.matchAll(LEFT)) problems.push(`lane ${lane} left in its ${SHM_DIR}: ${left.trim()}`);
await new Promise((r) => setTimeout(r, 500)); // let exiting children's trackers finish
const leaks = leakProblems(before, snapshot(), output);
problems.push(...leaks);
if (!leaks.length && !output.match(LEFT)) {
  console.log(`${SHM_DIR}: as before (${before.length} blocks${isolated ? `; ${JEST_LANES + (py ? 1 : 0)} lanes, each left its own empty` : ''}), no tracker reported a leaked block`);
}

rmSync(work, { recursive: true, force: true });
for (const p of problems) console.error(`FAILED: ${p}`);
console.log(`tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
process.exit(problems.length || counts.failed ? 1 : 0);
