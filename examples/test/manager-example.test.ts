import { describe, expect, it } from '@jest/globals';
import { runExample } from './run-example.js';

describe('manager example', () => {
  it('manager-service.ts: two Python workers make blocks through a Node manager; shutdown leaves nothing', () => {
    const r = runExample('manager-service.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/python: worker 1 made psm_[0-9a-f]{8} and a list psm_[0-9a-f]{8} through the manager/);
    expect(r.stdout).toMatch(/python: worker 2 made psm_[0-9a-f]{8} and a list psm_[0-9a-f]{8} through the manager/);
    expect(r.stdout).toContain('node:   the manager tracks 4 blocks');
    expect(r.stdout).toContain('node:   after shutdown, blocks left in /dev/shm: 0');
  });
});
