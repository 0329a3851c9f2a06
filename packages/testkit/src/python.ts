/**
 * Real CPython interpreters for interop tests: the project's virtualenv
 * (`.venv`, made by the README's set-up command, with numpy, pyarrow, torch,
 * pandas and pytest) and every CPython >= 3.8 that pyenv lists. A test that
 * needs an interpreter that is missing fails (never skips) with a message
 * saying which one.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Python {
  /** `3.13.0`, or `python3` for the project's virtualenv. */
  label: string;
  /** `[major, minor]` */
  version: [number, number];
  executable: string;
}

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
/** `packages/python-compat/python`: put on PYTHONPATH so `import shmbridge` works. */
export const pythonHelperPath = join(repoRoot, 'packages', 'python-compat', 'python');
/** The project's virtualenv interpreter: `python3 -m venv .venv && .venv/bin/pip install …` (README, "Try it"). */
export const venvPython = join(repoRoot, '.venv', 'bin', 'python3');
/** What the README installs into `.venv` for the tests. */
export const VENV_PACKAGES = 'pytest numpy pyarrow pandas torch';

function versionOf(executable: string): [number, number] {
  const out = execFileSync(executable, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'], { encoding: 'utf8' });
  const [major, minor] = out.trim().split(' ').map(Number);
  return [major!, minor!];
}

/** `[major, minor]` of `3.11.7`. */
const parseVersion = (v: string): [number, number] => v.split('.').slice(0, 2).map(Number) as [number, number];

/** The venv's version as its pyvenv.cfg records it (asking the interpreter costs a process start per test file). */
function venvVersion(): [number, number] {
  const cfg = readFileSync(join(venvPython, '..', '..', 'pyvenv.cfg'), 'utf8');
  const v = /^version(?:_info)?\s*=\s*(\d+\.\d+)/m.exec(cfg)?.[1];
  return v ? parseVersion(v) : versionOf(venvPython);
}

let cached: Python[] | undefined;

/** Every CPython on this machine that has `multiprocessing.shared_memory` (>= 3.8), oldest first, then the virtualenv's python3. */
export function pythons(): Python[] {
  if (cached) return cached;
  const found: Python[] = [];
  const root = spawnSync('pyenv', ['root'], { encoding: 'utf8' });
  if (root.status === 0) {
    const bare = spawnSync('pyenv', ['versions', '--bare'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const v of bare) {
      const exe = join(root.stdout.trim(), 'versions', v, 'bin', 'python');
      // pyenv names each install for its version (3.11.7)
      if (!/^3\.\d+\.\d+$/.test(v) || !existsSync(exe)) continue;
      const version = parseVersion(v);
      if (version[0] === 3 && version[1] >= 8) found.push({ label: v, version, executable: exe });
    }
  }
  found.sort((a, b) => a.version[1] - b.version[1]);
  if (existsSync(venvPython)) found.push({ label: 'python3', version: venvVersion(), executable: venvPython });
  return (cached = found);
}

/** The newest pyenv CPython `3.minor.*`; throws (fails the test) if there is none. */
export function python(minor: number): Python {
  const p = [...pythons()].reverse().find((x) => x.label !== 'python3' && x.version[1] === minor);
  if (!p) throw new Error(`This test needs CPython 3.${minor} (pyenv install 3.${minor}); found: ${pythons().map((x) => x.label).join(', ') || 'none'}`);
  return p;
}

/** The project virtualenv's `python3` (the one with numpy, pyarrow, torch); throws (fails the test) if there is none. */
export function python3(): Python {
  const p = pythons().find((x) => x.label === 'python3');
  if (!p) {
    throw new Error(`This test needs the project's virtualenv ${venvPython}: python3 -m venv .venv && .venv/bin/pip install --retries 0 ${VENV_PACKAGES}`);
  }
  return p;
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface PythonProcess {
  child: ChildProcess;
  /** The first line the script prints on stdout. */
  firstLine(): Promise<string>;
  /** Resolves with everything printed so far once stdout matches `pattern`. */
  waitForOutput(pattern: RegExp): Promise<string>;
  /** Writes to the script's stdin. */
  send(text: string): void;
  /** Settles when it exits: resolves with its output, or rejects if it failed (unless `allowFailure`). */
  done: Promise<RunResult>;
}

export interface PythonOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  allowFailure?: boolean;
  timeoutMs?: number;
}

/**
 * Starts Python code in a fresh interpreter with the shmbridge helper on
 * PYTHONPATH; stdin stays open for {@link PythonProcess.send}.
 */
export function startPython(py: Python, code: string, options: PythonOptions = {}): PythonProcess {
  const child = spawn(py.executable, ['-c', code, ...(options.args ?? [])], {
    env: { ...process.env, PYTHONPATH: pythonHelperPath, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const outputWaiters: Array<{ pattern: RegExp; resolve: (out: string) => void }> = [];
  const settle = () => {
    for (const w of [...outputWaiters]) {
      if (!w.pattern.test(stdout)) continue;
      outputWaiters.splice(outputWaiters.indexOf(w), 1);
      w.resolve(stdout);
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    settle();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const done = new Promise<RunResult>((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const result = { status, signal, stdout, stderr };
      if (status !== 0 && !options.allowFailure) {
        reject(new Error(`${py.label} exited with ${status ?? signal}:\n${stderr}\n--- code ---\n${code}`));
      } else resolvePromise(result);
    });
  });
  function waitForOutput(pattern: RegExp): Promise<string> {
    if (pattern.test(stdout)) return Promise.resolve(stdout);
    return new Promise((resolvePromise, reject) => {
      outputWaiters.push({ pattern, resolve: resolvePromise });
      done.then(() => reject(new Error(`${py.label} exited before printing ${pattern}:\n${stdout}\n${stderr}`)), reject);
    });
  }
  return {
    child,
    done,
    send: (text) => child.stdin!.write(text),
    waitForOutput,
    firstLine: () => waitForOutput(/\n/).then((out) => out.slice(0, out.indexOf('\n'))),
  };
}

/** Runs Python code to completion (stdin closed); rejects with its stderr if it fails, unless `allowFailure`. */
export function runPython(py: Python, code: string, options: PythonOptions = {}): Promise<RunResult> {
  const p = startPython(py, code, options);
  p.child.stdin!.end();
  return p.done;
}

export interface PythonService {
  /** Sends one JSON request line; resolves with the JSON reply line. Replies come in order. */
  request<T = any>(message: unknown): Promise<T>;
  /** Closes stdin and waits for the interpreter to exit (rejects if it failed). */
  close(): Promise<RunResult>;
  readonly python: Python;
}

/**
 * Starts a Python script that answers JSON requests, one per line, in order
 * (it must first print one ready line). One interpreter serves a whole test
 * file, so batches of cases cost one process start.
 */
export async function pythonService(py: Python, scriptPath: string): Promise<PythonService> {
  const p = startPython(py, `import runpy, sys; sys.argv = [${JSON.stringify(scriptPath)}]; runpy.run_path(${JSON.stringify(scriptPath)}, run_name='__main__')`);
  const pending: Array<{ resolve: (v: any) => void; reject: (e: Error) => void }> = [];
  let buffer = '';
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  let sawReady = false;
  p.child.stdout!.on('data', (d: string) => {
    buffer += d;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      if (!sawReady) {
        sawReady = true;
        ready();
        continue;
      }
      const waiter = pending.shift();
      const reply = JSON.parse(line);
      if (reply && typeof reply === 'object' && 'exception' in reply) waiter?.reject(new Error(`${py.label}: ${reply.exception}: ${reply.message}`));
      else waiter?.resolve(reply);
    }
  });
  p.done.catch((err: Error) => pending.splice(0).forEach((w) => w.reject(err)));
  await Promise.race([started, p.done.then(() => { throw new Error(`${py.label} exited before it was ready`); })]);
  return {
    python: py,
    request: (message) =>
      new Promise((resolve, reject) => {
        pending.push({ resolve, reject });
        p.send(`${JSON.stringify(message)}\n`);
      }),
    close: () => {
      p.child.stdin!.end();
      return p.done;
    },
  };
}
