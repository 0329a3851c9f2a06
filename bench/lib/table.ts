import { formatNs, ratio, type Stats } from './measure.js';

/** Prints a benchmark table: a title, then aligned rows. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/**
 * What a bench whose run missed a target exits with, so scripts/bench.mjs
 * tells a miss from a crash (exit 1) and `pnpm bench --check` fails on it.
 */
export const MISSED_TARGET_EXIT = 3;

function report(met: boolean): boolean {
  if (!met) process.exitCode = MISSED_TARGET_EXIT;
  return met;
}

/** Checks a target and prints it: `target: get >= 20x faster than CPython … met (31.2x)`. */
export function target(label: string, achieved: number, wanted: number): boolean {
  const met = achieved >= wanted;
  console.log(`target: ${label} >= ${wanted}x … ${met ? 'met' : 'NOT MET'} (${achieved.toFixed(1)}x)`);
  return report(met);
}

/** `4 KiB`, `64 MiB`, `1 GiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let u = 0;
  while (n >= 1024 && n % 1024 === 0 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n} ${units[u]}`;
}

/** `x / floor` as `1.07x`: how many times the floor's time `ours` takes. */
export function times(ours: number, floor: number): string {
  return `${(ours / floor).toFixed(2)}x`;
}

/** Checks a ceiling and prints it: `target: attach 1 GiB / N-API floor <= 1.25x … met (1.04x)`. */
export function ceiling(label: string, achieved: number, limit: number): boolean {
  const met = achieved <= limit;
  console.log(`target: ${label} <= ${limit}x … ${met ? 'met' : 'NOT MET'} (${achieved.toFixed(2)}x)`);
  return report(met);
}

/** A ratio column of {@link printComparison}: `side` against `base`. */
export interface RatioColumn {
  header: string;
  side: string;
  base: string;
  /** `faster`: "3.1x faster" (base time / side time); `times`: "1.07x" (side time / base time). */
  as: 'faster' | 'times';
}

/**
 * One row per case, one `median (p90 …)` column per side, then ratio
 * columns — the layout of every implementation-against-implementation bench.
 */
export function printComparison(
  title: string,
  cases: Array<{ label: string; key: string }>,
  results: Record<string, Record<string, Stats>>,
  ratios: RatioColumn[],
): void {
  const sides = Object.keys(results);
  const at = (side: string, key: string) => {
    const s = results[side]?.[key];
    if (!s) throw new Error(`bench: no result for ${side} ${key}`);
    return s;
  };
  printTable(
    title,
    ['case', ...sides.map((s) => `${s} median (p90)`), ...ratios.map((r) => r.header)],
    cases.map(({ label, key }) => [
      label,
      ...sides.map((s) => `${formatNs(at(s, key).median)} (${formatNs(at(s, key).p90)})`),
      ...ratios.map((r) => {
        const ours = at(r.side, key).median;
        const base = at(r.base, key).median;
        return r.as === 'faster' ? ratio(base, ours) : times(ours, base);
      }),
    ]),
  );
}

/** Checks an absolute ceiling and prints it: `target: createAsync(1 GiB): event loop busy <= 1 ms … met (0.21 ms)`. */
export function atMost(label: string, achieved: number, limit: number, unit: string): boolean {
  const met = achieved <= limit;
  console.log(`target: ${label} <= ${limit} ${unit} … ${met ? 'met' : 'NOT MET'} (${achieved.toFixed(2)} ${unit})`);
  return met;
}
