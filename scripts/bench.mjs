#!/usr/bin/env node
// `pnpm bench [--check] [filter…]`: runs every bench/**/*.bench.ts (or those
// whose path contains one of the filters, e.g. `pnpm bench attach`) one after
// another, each in its own Node process. Each prints its own tables and
// ratios, measured in the same run, and its targets (met / NOT MET). A bench
// that misses a target exits with 3 (bench/lib/table.ts); the run lists them,
// and with --check exits non-zero. Run them inside a private /dev/shm on a
// shared machine: `sh scripts/isolated.sh pnpm bench`.
//
// Benches run as `node --expose-gc --import tsx` (not the tsx CLI, whose
// extra process would not get --expose-gc) with bench/tsconfig.json, which
// has no `paths`: @shmbridge/* resolve to the built dist/ that users run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// SHMBRIDGE_BENCH_DIR: another folder of benches (the test of --check uses one).
const benchDir = process.env.SHMBRIDGE_BENCH_DIR ?? join(root, 'bench');
const tsx = import.meta.resolve('tsx');
const MISSED_TARGET_EXIT = 3;
const check = process.argv.includes('--check');
const filters = process.argv.slice(2).filter((a) => a !== '--check');

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : find(p);
    return e.name.endsWith('.bench.ts') ? [p] : [];
  });
}

const files = find(benchDir).sort().filter((f) => !filters.length || filters.some((x) => relative(root, f).includes(x)));
if (!files.length) {
  console.error(`no benchmark matches ${filters.join(' ')}`);
  process.exit(1);
}
const failed = [];
const missed = [];
for (const f of files) {
  console.log(`\n# ${relative(root, f)}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', tsx, f], {
    cwd: benchDir,
    stdio: 'inherit',
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'bench', 'tsconfig.json') },
  });
  console.log(`(${relative(root, f)}: ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (r.status === MISSED_TARGET_EXIT) missed.push(relative(root, f));
  else if (r.status !== 0) failed.push(relative(root, f));
}
if (missed.length) console.error(`\ntargets NOT MET in: ${missed.join(', ')}${check ? '' : ' (pnpm bench --check fails on this)'}`);
if (failed.length) console.error(`\nfailed: ${failed.join(', ')}`);
process.exit(failed.length || (check && missed.length) ? 1 : 0);
