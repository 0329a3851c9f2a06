/**
 * Child Node processes (and worker threads) that run a snippet against the
 * built packages, so a test can watch a process crash, get SIGKILLed or exit
 * while holding blocks. They load `dist/` — what users run — and refuse to
 * start if it is older than `src/` (run `pnpm build`; `pnpm test` does).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

export interface NodeOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  nodeArgs?: string[];
  cwd?: string;
  /**
   * Mount options of a /dev/shm of the child's own (`'size=1m'`,
   * `'huge=never'`): it runs in a private mount namespace (`unshare -m`) on a
   * fresh tmpfs. Needs root or unprivileged user namespaces; {@link runNode}
   * fails saying so where they are refused.
   */
  privateShm?: string;
}

/** What a child that could not get its private /dev/shm exits with. */
const NO_PRIVATE_SHM = 97;

/**
 * Starts `node` on an ES module snippet. In the snippet, `core`,
 * `pythonCompat`, `arrow` and `worker` are the entry paths above: `await import(core)`.
 */
export function spawnNode(code: string, options: NodeOptions = {}): ChildProcess {
  const names = ['core', 'pythonCompat', 'arrow', 'worker'] as const;
  const prelude = names
    .filter((n) => new RegExp(`\\b${n}\\b`).test(code))
    .map((n) => `const ${n} = ${JSON.stringify(entries[n])};\n`)
    .join('');
  const argv = [...(options.nodeArgs ?? []), '--input-type=module', '-e', prelude + code, ...(options.args ?? [])];
  const [cmd, cmdArgs] = options.privateShm === undefined
    ? [process.execPath, argv]
    : ['unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o "$1" tmpfs /dev/shm || exit ${NO_PRIVATE_SHM}; shift; exec "$@"`, 'sh', options.privateShm, process.execPath, ...argv]];
  return spawn(cmd, cmdArgs, {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    cwd: options.cwd,
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

/**
 * Runs a snippet to completion (see {@link spawnNode}).
 * @throws if `privateShm` was asked for and this machine refuses a private mount
 */
export async function runNode(code: string, options: NodeOptions & { timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await finished(spawnNode(code, options), options.timeoutMs);
  if (options.privateShm !== undefined && (r.status === NO_PRIVATE_SHM || /^unshare: /m.test(r.stderr))) {
    throw new Error(`this test needs a /dev/shm of its own (unshare -m, then mount -t tmpfs -o ${options.privateShm}): root or unprivileged user namespaces. Here: ${r.stderr.trim()}`);
  }
  return r;
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

/**
 * Pids of the live children of `ppid` whose command line matches `pattern`,
 * read from /proc (what `pgrep -P ppid -f pattern` answers, without needing
 * procps installed).
 */
export function childPids(ppid: number, pattern: RegExp): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // "pid (comm) state ppid …": comm may hold spaces and parentheses
      const [state, parent] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(parent) !== ppid || state === 'Z') return [];
      return pattern.test(readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ')) ? [Number(d)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}
