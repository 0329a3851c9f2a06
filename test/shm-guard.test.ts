import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SharedMemory } from '@shmbridge/core';
import { createsNoBlock, python3, shmExists } from '@shmbridge/testkit';
import { leakProblems, snapshot } from '../scripts/shm-guard.mjs';

/** Runs one pytest file through the venv's pytest; its output as the suite's guard would see it. */
function pytest(source: string): { status: number | null; output: string; name: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shmbridge-guard-'));
  try {
    writeFileSync(join(dir, 'test_block.py'), source);
    const r = spawnSync(python3().executable, ['-m', 'pytest', '-q', '-s', '-p', 'no:cacheprovider', join(dir, 'test_block.py')], { encoding: 'utf8', cwd: dir });
    const name = /block: (\S+)/.exec(r.stdout)?.[1] ?? '';
    return { status: r.status, output: r.stdout + r.stderr, name };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the suite\'s /dev/shm guard (scripts/shm-guard.mjs)', () => {
  it('catches a pytest test that creates a block and never unlinks it, though CPython\'s tracker removed it', () => {
    const before = snapshot();
    const r = pytest(`
from multiprocessing import shared_memory
def test_leaks():
    shm = shared_memory.SharedMemory(create=True, size=64)
    print("block:", shm.name)
    shm.close()
`);
    expect(r.status).toBe(0);
    expect(r.name).toMatch(/^psm_/);
    // CPython's resource tracker unlinked it when that Python exited: /dev/shm alone cannot tell.
    expect(shmExists(r.name)).toBe(false);
    const problems = leakProblems(before, before, r.output);
    expect(problems).toEqual([expect.stringMatching(/resource_tracker: There appear to be 1 leaked shared_memory objects/)]);
  });

  it('passes a pytest test that unlinks what it creates', () => {
    const before = snapshot();
    const r = pytest(`
from multiprocessing import shared_memory
def test_cleans_up():
    shm = shared_memory.SharedMemory(create=True, size=64)
    print("block:", shm.name)
    shm.close()
    shm.unlink()
`);
    expect(r.status).toBe(0);
    expect(r.name).toMatch(/^psm_/);
    expect(leakProblems(before, before, r.output)).toEqual([]);
  });

  it('reports a block left in /dev/shm and one removed, and shmbridge\'s tracker cleaning up', () => {
    expect(leakProblems(['a', 'b'], ['b', 'c'], '')).toEqual(['/dev/shm changed: left behind [c], removed [a]']);
    const line = 'shmbridge: process 42 exited without unlinking shared memory it created; unlinked: psm_0badf00d';
    expect(leakProblems([], [], `x\n${line}\ny`)).toEqual([`trackers cleaned up blocks a test leaked:\n    ${line}`]);
  });
});

describe('createsNoBlock (the per-test check that a refused call made nothing)', () => {
  it('is false for a call that leaves a block behind each time, true for one that makes none', () => {
    const made: SharedMemory[] = [];
    try {
      expect(createsNoBlock(() => void made.push(SharedMemory.create(8)), 200)).toBe(false);
      expect(made.length).toBeGreaterThan(2); // retried, with pauses, before blaming the call
    } finally {
      for (const m of made) m.close().unlink();
    }
    expect(createsNoBlock(() => SharedMemory.create(8).close().unlink())).toBe(true);
  });
});
