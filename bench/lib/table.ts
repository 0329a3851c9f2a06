/** Prints a benchmark table: a title, then aligned rows. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Checks a target and prints it: `target: get >= 20x faster than CPython … met (31.2x)`. */
export function target(label: string, achieved: number, wanted: number): boolean {
  const met = achieved >= wanted;
  console.log(`target: ${label} >= ${wanted}x … ${met ? 'met' : 'NOT MET'} (${achieved.toFixed(1)}x)`);
  return met;
}
