/**
 * Child Node processes (and worker threads) that run a snippet against the
 * built packages, so a test can watch a process crash, get SIGKILLed or exit
 * while holding blocks. They load `dist/` — what users run — and refuse to
 * start if it is older than `src/` (run `pnpm build`; `pnpm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from './python.js';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function builtEntry(pkg: string, file = 'index.js'): string {
  const dir = join(repoRoot, 'packages', pkg);
  const entry = join(dir, 'dist', file);
  if (!existsSync(join(dir, 'src'))) return entry;
  if (!existsSync(entry) || newestMtime(join(dir, 'src')) > statSync(entry).mtimeMs) {
    throw new Error(`packages/${pkg}/dist is missing or older than src: run \`pnpm build\` (pnpm test does it)`);
  }
  return entry;
}

/** Absolute paths of each package's built entry, for `await import(...)` in child snippets. */
export const entries = {
  get core() { return builtEntry('core'); },
  get pythonCompat() { return builtEntry('python-compat'); },
  get arrow() { return builtEntry('arrow'); },
  get worker() { return builtEntry('worker'); },
  /** The `shmbridge` command (packages/cli). */
  get cli() { return builtEntry('cli', 'main.js'); },
};

/**
 * Starts `node` on an ES module snippet. In the snippet, `core`,
 * `pythonCompat`, `arrow` and `worker` are the entry paths above: `await import(core)`.
 */
export function spawnNode(code: string, options: { args?: string[]; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; nodeArgs?: string[] } = {}): ChildProcess {
  const names = ['core', 'pythonCompat', 'arrow', 'worker'] as const;
  const prelude = names
    .filter((n) => new RegExp(`\\b${n}\\b`).test(code))
    .map((n) => `const ${n} = ${JSON.stringify(entries[n])};\n`)
    .join('');
  return spawn(process.execPath, [...(options.nodeArgs ?? []), '--input-type=module', '-e', prelude + code, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  });
}

/** Collects a child's output until it exits; kills it after `timeoutMs`. */
export function finished(child: ChildProcess, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}

/** Runs a snippet to completion (see {@link spawnNode}). */
export function runNode(code: string, options: Parameters<typeof spawnNode>[1] & { timeoutMs?: number } = {}): Promise<RunResult> {
  return finished(spawnNode(code, options), options.timeoutMs);
}

/** Resolves with the first line a child prints on stdout (e.g. a block name). */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let buf = '';
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolvePromise(buf.slice(0, i));
    });
    child.on('close', (code) => reject(new Error(`child exited (${code}) before printing a line:\n${err}`)));
  });
}
