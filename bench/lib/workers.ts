/**
 * The sides the worker benchmarks compare: a PythonWorker on bench_model.py,
 * a raw pipe to pipe_worker.py (the floor: bytes, no protocol), and
 * python-shell in JSON mode on json_worker.py (what Node users pick today).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { PythonShell } from 'python-shell';
import { python3 } from '@shmbridge/testkit';
import { PythonWorker, type WorkerOptions } from '@shmbridge/worker';

const here = (file: string) => fileURLToPath(new URL(`../worker/python/${file}`, import.meta.url));
const helper = fileURLToPath(new URL('../../packages/python-compat/python', import.meta.url));

export const PYTHON = python3().executable;

export function startBenchWorker(options: Partial<WorkerOptions> = {}): Promise<PythonWorker> {
  return PythonWorker.start({ module: here('bench_model.py'), python: PYTHON, ...options });
}

/** A Python process at the other end of two raw pipes (fd 3 in, fd 4 out). */
export class RawPipe {
  readonly child: ChildProcess;
  readonly #out: Writable;
  readonly #in: Readable;
  #want = 0;
  #got: Buffer[] = [];
  #have = 0;
  #done: ((b: Buffer) => void) | undefined;

  /** `script`: echo_worker.py (ping-pong) or pipe_worker.py (bulk bytes). */
  constructor(script: 'echo_worker.py' | 'pipe_worker.py') {
    this.child = spawn(PYTHON, [here(script)], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'], env: { ...process.env, PYTHONPATH: helper } });
    this.#out = this.child.stdio[3] as Writable;
    this.#in = this.child.stdio[4] as Readable;
    this.#in.on('data', (chunk: Buffer) => {
      this.#got.push(chunk);
      this.#have += chunk.length;
      if (this.#done && this.#have >= this.#want) {
        const all = Buffer.concat(this.#got, this.#have);
        this.#got = [];
        this.#have = 0;
        const done = this.#done;
        this.#done = undefined;
        done(all);
      }
    });
  }

  /** Writes `data`, resolves with the next `reply` bytes. */
  async request(data: Uint8Array | Uint8Array[], reply: number): Promise<Buffer> {
    const result = new Promise<Buffer>((resolve) => {
      this.#want = reply;
      this.#done = resolve;
    });
    for (const part of Array.isArray(data) ? data : [data]) {
      if (!this.#out.write(part)) await once(this.#out, 'drain');
    }
    return result;
  }

  async close(): Promise<void> {
    this.#out.end();
    if (this.child.exitCode === null) await once(this.child, 'exit');
  }
}

/** python-shell in JSON mode, as an RPC: replies come in order, one line each. */
export class JsonShell {
  readonly shell: PythonShell;
  readonly #waiting: Array<(v: unknown) => void> = [];

  constructor() {
    this.shell = new PythonShell(here('json_worker.py'), { mode: 'json', pythonPath: PYTHON, pythonOptions: ['-u'], env: { ...process.env } });
    this.shell.on('message', (m: unknown) => this.#waiting.shift()!(m));
    this.shell.on('stderr', (line: string) => process.stderr.write(`${line}\n`));
  }

  call(fn: string, args: unknown[] = []): Promise<unknown> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.shell.send({ fn, args });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.shell.end(() => resolve()));
  }
}

/** p50 and p90 of a list of ns. */
export function percentiles(samples: number[]): { p50: number; p90: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)]!, p90: s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]! };
}

/** Times one async operation in ns. */
export async function timeOnce(op: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - t0);
}

/**
 * Runs each side's operation once per round, in turn (a, b, c, a, b, c…), after
 * `warmup` rounds; this VM's wake-up latency swings between runs, so only
 * samples taken side by side compare. With `settleMs`, garbage is collected
 * and the processes get that long to finish freeing memory before each
 * operation, outside the clock, so one side's cleanup (64 MiB pipe buffers,
 * the unmapping of a 64 MiB block) is not paid by the next side.
 */
export async function alternate<K extends string>(rounds: number, warmup: number, sides: Record<K, () => Promise<unknown>>, settleMs = 0): Promise<Record<K, number[]>> {
  const out = Object.fromEntries(Object.keys(sides).map((k) => [k, [] as number[]])) as unknown as Record<K, number[]>;
  const gc = (globalThis as { gc?: () => void }).gc;
  const collect = settleMs > 0;
  if (collect && !gc) throw new Error('bench: run with --expose-gc (scripts/bench.mjs does)');
  for (let r = 0; r < warmup + rounds; r++) {
    for (const k of Object.keys(sides) as K[]) {
      if (collect) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, settleMs));
      }
      const ns = await timeOnce(sides[k]);
      if (r >= warmup) out[k].push(ns);
    }
  }
  return out;
}
