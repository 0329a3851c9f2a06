/**
 * Starting workers on the fixture modules (test/fixtures) with a chosen
 * CPython: 3.8 and 3.13 have only the standard library here, python3 (3.11)
 * has numpy, torch and pyarrow.
 */
import { fileURLToPath } from 'node:url';
import { python, python3, type Python } from '@shmbridge/testkit';
import { PythonWorker, type WorkerOptions } from '@shmbridge/worker';

export const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The interpreters every plain-value test runs against. */
export function interpreters(): Python[] {
  return [python(8), python3(), python(13)];
}

/** Output a test collects instead of letting it reach Jest's stderr. */
export class Output {
  stdout = '';
  stderr = '';
  readonly handler = (text: string, stream: 'stdout' | 'stderr') => {
    this[stream] += text;
  };
}

export function startWorker(py: Python, module: string, options: Partial<WorkerOptions> = {}): Promise<PythonWorker> {
  return PythonWorker.start({ module, cwd: fixtures, python: py.executable, onOutput: new Output().handler, ...options });
}

/** Resolves once `check()` is true, polling; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a process with this pid exists (and is not a zombie we reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
