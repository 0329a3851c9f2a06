import { describe, expect, it } from '@jest/globals';
import { finished, firstLine, shmExists, spawnNode, waitUntil } from '@shmbridge/testkit';

// The tracker ignores SIGTERM but can be SIGKILLed. Before the fix, blocks
// created afterwards were silently untracked and the ones it held leaked when
// their owner died. Now the owner notices, starts a new tracker, registers its
// live blocks again and warns once. Trackers are found through /proc (no pgrep).
const TRACKERS_OF = `
  const { readdirSync, readFileSync } = await import('node:fs');
  const trackersOf = (owner) => readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).filter((p) => {
    try { const argv = readFileSync('/proc/' + p + '/cmdline', 'latin1').split('\\0'); return argv[0].endsWith('shmbridge-tracker') && argv[1] === String(owner); } catch { return false; }
  }).map(Number);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
`;


describe('creator tracking when the tracker is killed', () => {
  for (const [when, between] of [
    ['noticed by its exit, with no create after it', 'await sleep(300);'],
    ['noticed by the broken pipe at the next create', ''],
  ] as const) {
    it(`starts a new tracker and re-registers live blocks (${when}); the owner's SIGKILL then leaves nothing`, async () => {
      const child = spawnNode(`
        const { SharedMemory } = await import(core);
        ${TRACKERS_OF}
        const before = SharedMemory.create(4096);
        const gone = SharedMemory.create(4096); gone.close().unlink();   // unlinked: must not come back
        const [first] = trackersOf(process.pid);
        process.kill(first, 'SIGKILL');
        ${between}
        const after = SharedMemory.create(4096);
        await sleep(50);
        console.log(JSON.stringify({ names: [before.name, after.name], gone: gone.name, first, now: trackersOf(process.pid) }));
        setInterval(() => {}, 1000);
      `);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      try {
        const { names, gone, first, now } = JSON.parse(await firstLine(child)) as { names: string[]; gone: string; first: number; now: number[] };
        expect(now).toHaveLength(1);
        expect(now[0]).not.toBe(first);
        expect(names.filter(shmExists)).toEqual(names);
        child.kill('SIGKILL');
        await finished(child);
        expect(await waitUntil(() => names.every((n) => !shmExists(n)))).toBe(true);
        expect(shmExists(gone)).toBe(false);
        expect(stderr.match(/the tracker process .*; started a new one and registered the \d+ tracked block\(s\) of this thread with it/g)).toHaveLength(1);
        expect(stderr).toContain(`unlinked: ${names[0]} ${names[1]}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }
});
