/**
 * The CPython side of a benchmark: a script that times its own operations
 * with time.perf_counter_ns and prints one JSON object.
 */
import { python, runPython, type Python } from '@shmbridge/testkit';

/** pyenv's CPython 3.13, the reference every benchmark compares against. */
export function cpython313(): Python {
  return python(13);
}

/** Runs a timing script; it receives `args` as sys.argv[1:] and must print JSON. */
export async function timePython<T>(py: Python, code: string, args: string[] = []): Promise<T> {
  const r = await runPython(py, code, { args, timeoutMs: 600_000 });
  const last = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(last) as T;
}

/** A Python helper for scripts: median of per-op ns over repeated batches. */
export const PY_TIMING = `
import time, json, sys
def per_op(fn, batch, samples=30, warmup=3):
    out = []
    for s in range(warmup + samples):
        t0 = time.perf_counter_ns()
        for i in range(batch):
            fn(i)
        t1 = time.perf_counter_ns()
        if s >= warmup:
            out.append((t1 - t0) / batch)
    out.sort()
    return {"median": out[len(out) // 2], "p90": out[min(len(out) - 1, int(0.9 * len(out)))]}
`;
