import { describe, expect, it } from '@jest/globals';
import { runExample } from './run-example.js';

describe('arrow example', () => {
  it('arrow-worker.ts: pyarrow reads Node\'s table in place, pandas aggregates it, Node reads the result table', () => {
    const r = runExample('arrow-worker.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/node: {3}shared 6 orders as psm_[0-9a-f]{8} \(\d+ bytes, Arrow IPC\)/);
    expect(r.stdout).toContain("python: read 6 orders in place: ['city', 'amount', 'quantity']");
    expect(r.stdout).toContain('python: pandas aggregated 3 cities');
    // revenue = sum(amount * quantity) per city, largest first
    expect(r.stdout).toContain([
      'node:   Kyoto  revenue  299.70  items 3',
      'node:   Oslo   revenue  170.00  items 5',
      'node:   Lyon   revenue   80.00  items 4',
    ].join('\n'));
  });
});
