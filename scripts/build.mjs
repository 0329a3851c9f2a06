#!/usr/bin/env node
// `pnpm build`: every package's dist/ in one `tsc -b` process. One process
// parses the standard library and @types/node once for all packages (a
// `tsc -p` per package parsed them each time: 5 s here instead of 15 s cold),
// and its .tsbuildinfo files let an unchanged package be skipped. Packages are
// found (packages/*/tsconfig.build.json) and built dependencies first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const packages = readdirSync(join(root, 'packages'))
  .map((d) => join(root, 'packages', d))
  .filter((dir) => existsSync(join(dir, 'tsconfig.build.json')))
  .map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return { dir, name: pkg.name, deps: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }) };
  });

const ordered = [];
const visit = (p, path = []) => {
  if (ordered.includes(p)) return;
  if (path.includes(p)) throw new Error(`dependency cycle: ${[...path, p].map((x) => x.name).join(' -> ')}`);
  for (const d of p.deps) {
    const dep = packages.find((x) => x.name === d);
    if (dep) visit(dep, [...path, p]);
  }
  ordered.push(p);
};
packages.forEach((p) => visit(p));

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-b', ...ordered.map((p) => join(p.dir, 'tsconfig.build.json'))], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
