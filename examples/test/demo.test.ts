import { describe, expect, it } from '@jest/globals';
import { runExample } from './run-example.js';

describe('examples', () => {
  it('demo.ts: Node and python3 read each other\'s writes in one block', () => {
    const r = runExample('demo.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const name = r.stdout.match(/node: {3}created (psm_[0-9a-f]{8})/)?.[1];
    expect(name).toBeDefined();
    expect(r.stdout).toContain(`python: attached ${name} (4096 bytes), read 'hello from Node' and [1.5, 2.5, 3.5, 4.5]`);
    expect(r.stdout).toContain('node:   python wrote "hello from Python" and doubled the numbers: [3, 5, 7, 9]');
  });
});
