/**
 * Timing for benchmarks: run an operation in batches, report per-op medians.
 * Fast operations (tens of ns) are timed in batches so the clock's own cost
 * disappears; slow ones (ms) one at a time.
 */
export interface Stats {
  /** median ns per op */
  median: number;
  /** 90th percentile ns per op */
  p90: number;
  samples: number;
}

export function stats(perOp: number[]): Stats {
  const s = [...perOp].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { median: at(0.5), p90: at(0.9), samples: s.length };
}

/**
 * Times `op(i)` for `batch` consecutive i per sample, `samples` times after
 * `warmup` samples; returns ns per op. `setup`/`teardown` run outside the clock.
 */
export function measure(
  op: (i: number) => unknown,
  { batch = 1, samples = 30, warmup = 3, setup, teardown }: { batch?: number; samples?: number; warmup?: number; setup?: () => void; teardown?: () => void } = {},
): Stats {
  const perOp: number[] = [];
  let sink: unknown;
  for (let s = 0; s < warmup + samples; s++) {
    setup?.();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink = op(i);
    const t1 = process.hrtime.bigint();
    teardown?.();
    if (s >= warmup) perOp.push(Number(t1 - t0) / batch);
  }
  (globalThis as { __benchSink?: unknown }).__benchSink = sink;
  return stats(perOp);
}

/** Human units for nanoseconds. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(2)} µs`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1_000_000_000).toFixed(2)} s`;
}

/** "12.3x faster" / "0.8x (slower)": how many times `base` is slower than `ours`. */
export function ratio(base: number, ours: number): string {
  const r = base / ours;
  return r >= 1 ? `${r.toFixed(1)}x faster` : `${r.toFixed(2)}x (slower)`;
}

/**
 * This machine's speed drifts between seconds (a shared VM), so comparisons
 * run in interleaved rounds — ours, theirs, ours, theirs… — and each side is
 * reported as the median over rounds of its per-round medians.
 */
export async function interleaved<K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<Record<string, Stats>> | Record<string, Stats>>,
): Promise<Record<K, Record<string, Stats>>> {
  const seen = new Map<K, Map<string, Stats[]>>();
  for (let r = 0; r < rounds; r++) {
    for (const side of Object.keys(sides) as K[]) {
      const result = await sides[side]();
      const ops = seen.get(side) ?? seen.set(side, new Map()).get(side)!;
      for (const [op, s] of Object.entries(result)) (ops.get(op) ?? ops.set(op, []).get(op)!).push(s);
    }
  }
  const out = {} as Record<K, Record<string, Stats>>;
  for (const [side, ops] of seen) {
    const summary: Record<string, Stats> = {};
    for (const [op, list] of ops) {
      const by = (k: 'median' | 'p90') => [...list.map((s) => s[k])].sort((a, b) => a - b)[Math.floor(list.length / 2)]!;
      summary[op] = { median: by('median'), p90: by('p90'), samples: list.reduce((n, s) => n + s.samples, 0) };
    }
    out[side] = summary;
  }
  return out;
}
