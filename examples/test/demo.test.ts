import { describe, expect, it } from '@jest/globals';
import { runExample } from './run-example.js';

describe('examples', () => {
  it('demo.ts: Node and python3 share a block, a list, a tensor and a table, and read each other\'s writes', () => {
    const r = runExample('demo.ts');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [block, list, tensor, table] = [...r.stdout.matchAll(/(psm_[0-9a-f]{8})/g)].map((m) => m[1]);
    expect(r.stdout).toContain(`python: block  ${block} (4096 bytes): read 'hello from Node' and [1.5, 2.5, 3.5, 4.5]`);
    expect(r.stdout).toContain('node:   block: python wrote "hello from Python" and doubled the numbers: [3, 5, 7, 9]');
    expect(list).toBeDefined();
    expect(r.stdout).toContain("python: list   ['howdy', 42, 3.5, None, True]");
    expect(r.stdout).toContain('node:   list: ["hi Node",43,3.5,null,true]');
    expect(tensor).toBeDefined();
    expect(r.stdout).toContain('python: tensor float32 (2, 3), sum=21.0');
    expect(r.stdout).toContain('node:   tensor: [10, 20, 30, 40, 50, 60]');
    expect(table).toBeDefined();
    expect(r.stdout).toContain("python: table  3 rows ['fruit', 'kg'], total kg=3.75");
    expect(r.stdout).toContain('node:   table: python answered [{"fruit":"apple","kg":1.5},{"fruit":"plum","kg":2}]');
  });
});
