#!/usr/bin/env node
// `pnpm bench [filter…]`: runs every bench/**/*.bench.ts (or those whose path
// contains one of the filters) one after another with tsx. Each prints its own
// tables and ratios, measured in the same run.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsx = createRequire(import.meta.url).resolve('tsx/cli');
const filters = process.argv.slice(2);

function find(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name.startsWith('.') ? [] : find(p);
    return e.name.endsWith('.bench.ts') ? [p] : [];
  });
}

const files = find(join(root, 'bench')).sort().filter((f) => !filters.length || filters.some((x) => relative(root, f).includes(x)));
if (!files.length) {
  console.error(`no benchmark matches ${filters.join(' ')}`);
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n# ${relative(root, f)}`);
  const r = spawnSync(process.execPath, ['--expose-gc', tsx, f], { cwd: join(root, 'bench'), stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
