import { describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';
import { childPids, finished, firstLine, runNode, shmExists, spawnNode, waitUntil } from '@shmbridge/testkit';

describe('creator tracking', () => {
  it('unlinks a SIGKILLed creator\'s tracked block; its attached and untracked blocks survive', async () => {
    const mine = SharedMemory.create(64, { track: false });
    const child = spawnNode(`
      const { SharedMemory } = await import(core);
      const tracked = SharedMemory.create(4096);
      const untracked = SharedMemory.create(4096, { track: false });
      const attached = SharedMemory.attach(${JSON.stringify(mine.name)});
      attached.buf[0] = 1;
      console.log(JSON.stringify([tracked.name, untracked.name]));
      setInterval(() => {}, 1000);
    `);
    try {
      const [tracked, untracked] = JSON.parse(await firstLine(child)) as [string, string];
      expect(shmExists(tracked)).toBe(true);
      child.kill('SIGKILL');
      const r = await finished(child);
      expect(r.signal).toBe('SIGKILL');
      expect(await waitUntil(() => !shmExists(tracked))).toBe(true);
      expect(r.stderr).toContain(`unlinked: ${tracked}`);
      expect(shmExists(untracked)).toBe(true);
      expect(shmExists(mine.name)).toBe(true);
      expect(mine.buf[0]).toBe(1);
      SharedMemory.attach(untracked).close().unlink();
    } finally {
      mine.close().unlink();
    }
  });

  it('unlinks at normal exit and warns on stderr naming the blocks; unlinked ones are forgotten', async () => {
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const a = SharedMemory.create(10, { name: 'shmbridge_leak_' + process.pid + ' with space' });
      const b = SharedMemory.create(10);
      b.close().unlink();
      console.log(JSON.stringify([a.name, b.name]));
    `);
    expect(r.status).toBe(0);
    const [leaked, unlinked] = JSON.parse(r.stdout) as [string, string];
    expect(await waitUntil(() => !shmExists(leaked))).toBe(true);
    expect(r.stderr).toMatch(/shmbridge: process \d+ exited without unlinking shared memory it created; unlinked: shmbridge_leak_\d+ with space\n/);
    expect(r.stderr).not.toContain(unlinked);
  });

  it('does not keep the event loop alive', async () => {
    // Without a timer or handle of its own, the child must exit by itself.
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const s = SharedMemory.create(10); s.close().unlink();
      process.on('exit', () => console.log('exited'));
    `, { timeoutMs: 20_000 });
    expect(r.signal).toBeNull();
    expect(r.stdout.trim()).toBe('exited');
  });

  it('leaves alone a block someone re-created under the same name', async () => {
    const name = `shmbridge_reused_${process.pid}`;
    const child = spawnNode(`
      const { SharedMemory } = await import(core);
      SharedMemory.create(10, { name: ${JSON.stringify(name)} });
      console.log('ready');
      process.stdin.once('data', () => process.exit(0));
    `);
    await firstLine(child);
    SharedMemory.attach(name).close().unlink();
    const replacement = SharedMemory.create(20, { name, track: false });
    try {
      child.stdin!.write('go\n');
      const r = await finished(child);
      expect(r.status).toBe(0);
      await new Promise((res) => setTimeout(res, 300));
      expect(shmExists(name)).toBe(true);
      expect(r.stderr).not.toContain(name);
    } finally {
      replacement.close().unlink();
    }
  });

  it('shares one tracker between worker threads', async () => {
    const child = spawnNode(`
      const { SharedMemory } = await import(core);
      const { Worker } = await import('node:worker_threads');
      const code = 'import(' + JSON.stringify(core) + ').then(({ SharedMemory }) => { SharedMemory.create(8); })';
      await new Promise((res, rej) => new Worker(code, { eval: true }).on('exit', res).on('error', rej));
      SharedMemory.create(8);
      console.log('made');
      process.stdin.once('data', () => process.exit(0));
    `);
    await firstLine(child);
    const trackers = childPids(child.pid!, /shmbridge-tracker/);
    child.stdin!.end('\n');
    const r = await finished(child);
    expect(trackers).toHaveLength(1);
    expect(r.stderr.match(/unlinked: (\S+) (\S+)\n/)).not.toBeNull();
  });
});

describe('SharedMemory#untrack', () => {
  it('hands ownership on: an untracked block survives its creator\'s exit', async () => {
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const a = SharedMemory.create(10).untrack();
      console.log(a.name, a.tracked);
    `);
    const [name, tracked] = r.stdout.trim().split(' ');
    expect(tracked).toBe('false');
    await new Promise((res) => setTimeout(res, 300));
    expect(shmExists(name!)).toBe(true);
    expect(r.stderr).toBe('');
    SharedMemory.attach(name!).close().unlink();
  });
});
