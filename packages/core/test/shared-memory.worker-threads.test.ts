import { describe, expect, it } from '@jest/globals';
import { runNode } from '@shmbridge/testkit';

// Worker threads load the addon in their own isolate. Built with
// -fvisibility=hidden, a thread that had mapped a block crashed the whole
// process when its isolate was torn down (SIGSEGV in V8's
// ArrayBufferSweeper::ReleaseAll), whether the block was closed or not; and
// starting the tracker from a thread warned about an fd fs had not opened.
describe('SharedMemory in worker threads', () => {
  it('threads that map blocks (closed, dropped, kept) and exit leave the process running, with nothing on stderr', async () => {
    const r = await runNode(`
      const { Worker } = await import('node:worker_threads');
      const body = [
        'const a = SharedMemory.create(4096); a.buf[0] = 1; a.close().unlink();',
        'const b = SharedMemory.create(4096, { track: false }); b.unlink();',
        'const c = SharedMemory.create(1 << 20); c.unlink(); globalThis.keep = [c, c.buf, c.view(Float64Array)];',
      ];
      for (const code of body) {
        const src = 'import(' + JSON.stringify(core) + ').then(({ SharedMemory }) => { ' + code + ' })';
        await new Promise((res, rej) => new Worker(src, { eval: true }).on('exit', res).on('error', rej));
      }
      const { SharedMemory } = await import(core);
      SharedMemory.create(16).close().unlink();
      console.log('alive');
    `);
    expect({ status: r.status, signal: r.signal, stderr: r.stderr, stdout: r.stdout.trim() }).toEqual({ status: 0, signal: null, stderr: '', stdout: 'alive' });
  });
});
