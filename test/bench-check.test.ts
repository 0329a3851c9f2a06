import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const table = JSON.stringify(join(root, 'bench', 'lib', 'table.ts'));
let dir: string;

/** scripts/bench.mjs over a folder of tiny benches that report targets through bench/lib/table.ts. */
function bench(...args: string[]) {
  return spawnSync(process.execPath, [join(root, 'scripts', 'bench.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, SHMBRIDGE_BENCH_DIR: dir }, timeout: 60_000 });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shmbridge-bench-'));
  writeFileSync(join(dir, 'met.bench.ts'), `import { ceiling, target } from ${table};\ntarget('fast vs slow', 2, 1);\nceiling('ours / floor', 1.1, 1.25);\n`);
  writeFileSync(join(dir, 'missed.bench.ts'), `import { ceiling, target } from ${table};\ntarget('fast vs slow', 3, 1);\nceiling('ours / floor', 2, 1.25);\n`);
  writeFileSync(join(dir, 'crash.bench.ts'), `throw new Error('boom');\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pnpm bench --check', () => {
  it('exits non-zero when a target is missed (a ceiling here), naming the bench; a crash fails with or without --check', () => {
    const r = bench('--check');
    expect(r.stdout).toContain('target: ours / floor <= 1.25x … NOT MET (2.00x)');
    expect(r.stdout).toContain('target: fast vs slow >= 1x … met (2.0x)');
    expect(r.stderr).toMatch(/targets NOT MET in: \S*missed\.bench\.ts\n/);
    expect(r.stderr).toMatch(/failed: \S*crash\.bench\.ts\n/);
    expect(r.status).toBe(1);
    expect(bench('crash.bench').status).toBe(1);
  });

  it('without --check reports the miss and exits 0; with every target met, --check exits 0', () => {
    const report = bench('missed.bench');
    expect(report.stderr).toMatch(/targets NOT MET in: \S*missed\.bench\.ts \(pnpm bench --check fails on this\)/);
    expect(report.status).toBe(0);
    const met = bench('--check', 'met.bench');
    expect(met.stderr).toBe('');
    expect(met.status).toBe(0);
  });
});
