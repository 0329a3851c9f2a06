/**
 * For children that run as another user (uid 65534 in the EACCES test): the
 * checkout may sit under a directory only its owner can enter (a 0700 home
 * directory), so such a child gets a copy of the built `@shmbridge/core` —
 * `dist/`, the addon and the tracker, and the packages it imports — in a new
 * folder under the system's temp directory that everyone can read.
 */
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entries } from './processes.js';

const coreDir = resolve(fileURLToPath(import.meta.url), '../../../core');

export interface ReadableCopy extends Disposable {
  /** The folder holding `node_modules/@shmbridge/core`; a good `cwd` for the child. */
  dir: string;
  /** The copy's entry, for `await import(core)`. */
  core: string;
}

/** Copies core's runtime dependencies into `modules` (they have none of their own). */
function copyDependencies(modules: string): void {
  const pkg = JSON.parse(readFileSync(join(coreDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    cpSync(realpathSync(join(coreDir, 'node_modules', name)), join(modules, name), { recursive: true });
  }
}

/** A world-readable copy of the built `@shmbridge/core`; removed on dispose. */
export function readableCoreCopy(): ReadableCopy {
  void entries.core; // refuses a dist/ older than src/
  const dir = mkdtempSync(join(tmpdir(), 'shmbridge-readable-'));
  chmodSync(dir, 0o755);
  const modules = join(dir, 'node_modules');
  const core = join(modules, '@shmbridge', 'core');
  for (const part of ['package.json', 'dist', 'prebuilds', 'build/Release/shmbridge.node', 'build/Release/shmbridge-tracker']) {
    if (existsSync(join(coreDir, part))) cpSync(join(coreDir, part), join(core, part), { recursive: true });
  }
  copyDependencies(modules);
  return {
    dir,
    core: join(core, 'dist', 'index.js'),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}
