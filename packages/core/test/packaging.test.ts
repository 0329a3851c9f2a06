import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

// A consumer project outside the workspace that has the package in node_modules,
// as an installed dependency would be: exports["."] must resolve for import and require.
function consumer(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shmbridge-consumer-'));
  mkdirSync(join(dir, 'node_modules', '@shmbridge'), { recursive: true });
  symlinkSync(pkgDir, join(dir, 'node_modules', '@shmbridge', 'core'));
  // Our public types mention Buffer: consumers have @types/node, like any Node library's.
  mkdirSync(join(dir, 'node_modules', '@types'));
  symlinkSync(fileURLToPath(new URL('../../../node_modules/@types/node', import.meta.url)), join(dir, 'node_modules', '@types', 'node'));
  return dir;
}

function node(dir: string, args: string[]) {
  return spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
}

describe('@shmbridge/core package', () => {
  it('is importable by name from ESM and require()-able from CommonJS', () => {
    const dir = consumer();
    try {
      writeFileSync(join(dir, 'esm.mjs'), `import { SharedMemory } from '@shmbridge/core';
        const s = SharedMemory.create(8); console.log(typeof SharedMemory, s.size); s.close().unlink();`);
      writeFileSync(join(dir, 'cjs.cjs'), `const { SharedMemory } = require('@shmbridge/core');
        const s = SharedMemory.create(8); console.log(typeof SharedMemory, s.size); s.close().unlink();`);
      for (const file of ['esm.mjs', 'cjs.cjs']) {
        const r = node(dir, [file]);
        expect({ file, stderr: r.stderr, stdout: r.stdout.trim() }).toEqual({ file, stderr: '', stdout: 'function 8' });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ships type declarations that resolve through exports', () => {
    const dir = consumer();
    try {
      writeFileSync(join(dir, 'use.ts'), `import { SharedMemory, type SharedMemoryHandle } from '@shmbridge/core';
        const h: SharedMemoryHandle = SharedMemory.create(8).toJSON();
        // @ts-expect-error size must be a number
        SharedMemory.create('8');
        export { h };`);
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], lib: ['ES2022', 'ESNext.Disposable'] }, files: ['use.ts'] }));
      const tsc = fileURLToPath(new URL('../../../node_modules/typescript/bin/tsc', import.meta.url));
      const r = node(dir, [tsc, '-p', '.']);
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
