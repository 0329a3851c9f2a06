import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { SharedMemory, Tensor, type CreateOptions } from '@shmbridge/core';
import { entries, listShm, python3, runNode, runPython, shmExists } from '@shmbridge/testkit';

/** Rss (kB) of each mapping of a block in this process (/proc/self/smaps). */
function resident(name: string): number[] {
  return readFileSync('/proc/self/smaps', 'utf8')
    .split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)
    .filter((m) => m.split('\n')[0]!.endsWith(`/dev/shm/${name}`))
    .map((m) => Number(/\nRss:\s+(\d+) kB/.exec(m)![1]));
}

/** What a user (and the kernel) can observe about a block just made. */
function observe(shm: SharedMemory) {
  const st = statSync(`/dev/shm/${shm.name}`);
  return {
    size: shm.size,
    bufLength: shm.buf.length,
    tracked: shm.tracked,
    mode: st.mode & 0o777,
    fileSize: st.size,
    allocatedBytes: st.blocks * 512, // reserved pages (posix_fallocate) or pages touched
    resident: resident(shm.name), // pages mapped in (populate)
    zeroed: shm.buf.every((b) => b === 0),
  };
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; syscall?: string; path?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('SharedMemory.createAsync', () => {
  it.each<[string, CreateOptions]>([
    ['the defaults (tracked, reserved, populated)', {}],
    ['untracked', { track: false }],
    ['not reserved', { reserve: false }],
    ['not populated', { populate: false }],
    ['neither reserved nor populated', { reserve: false, populate: false }],
  ])('makes the block create makes: %s', async (_label, options) => {
    const size = (1 << 20) + 100;
    const sync = SharedMemory.create(size, options);
    const async = await SharedMemory.createAsync(size, options);
    try {
      expect(async).toBeInstanceOf(SharedMemory);
      expect(async.name).toMatch(/^psm_[0-9a-f]{8}$/);
      expect(observe(async)).toEqual(observe(sync));
    } finally {
      sync.close().unlink();
      async.close().unlink();
    }
  });

  it('reserves and populates at all: 1 MiB resident and allocated with the defaults, nothing without', async () => {
    const eager = await SharedMemory.createAsync(1 << 20);
    const lazy = await SharedMemory.createAsync(1 << 20, { reserve: false, populate: false });
    try {
      expect([eager.size, statSync(`/dev/shm/${eager.name}`).blocks * 512, resident(eager.name)]).toEqual([1 << 20, 1 << 20, [1024]]);
      expect([statSync(`/dev/shm/${lazy.name}`).blocks, resident(lazy.name)]).toEqual([0, [0]]);
    } finally {
      eager.close().unlink();
      lazy.close().unlink();
    }
  });

  it('takes a name, and its block is the one other processes attach to (CPython writes, Node reads)', async () => {
    const name = `psm_async_${process.pid}`;
    const shm = await SharedMemory.createAsync(64, { name });
    try {
      expect(shm.name).toBe(name);
      await runPython(python3(), `import shmbridge; s = shmbridge.attach(${JSON.stringify(name)}); s.buf[:2] = b'ok'; s.close()`);
      expect(shm.buf.toString('utf8', 0, 2)).toBe('ok');
    } finally {
      shm.close().unlink();
    }
  });

  it('rejects (never throws) with the codes create throws, and leaves nothing behind', async () => {
    const before = listShm();
    const existing = SharedMemory.create(16);
    try {
      const call = () => SharedMemory.createAsync(16, { name: existing.name });
      let threw = false;
      let pending: Promise<unknown> | undefined;
      try {
        pending = call();
      } catch {
        threw = true;
      }
      expect(threw).toBe(false);
      const exists = await rejection(pending!);
      expect([exists.code, exists.syscall, exists.path]).toEqual(['EEXIST', 'shm_open', existing.name]);
      for (const [args, code] of [
        [[], 'ERR_INVALID_ARG_TYPE'],
        [[0], 'ERR_OUT_OF_RANGE'],
        [[-1], 'ERR_OUT_OF_RANGE'],
        [[16, { name: 'a/b' }], 'ERR_INVALID_ARG_VALUE'],
        [[16, { trak: false }], 'ERR_INVALID_ARG_VALUE'],
      ] as const) {
        const err = await rejection((SharedMemory.createAsync as (...a: unknown[]) => Promise<SharedMemory>)(...args));
        expect({ args, code: err.code }).toEqual({ args, code });
      }
      expect(existing.buf.length).toBe(16); // the existing block is untouched
    } finally {
      existing.close().unlink();
    }
    expect(listShm()).toEqual(before);
  });

  it('is safe when another mapping of the block is closed while the create is pending', async () => {
    const name = `psm_pending_${process.pid}`;
    let settled = false;
    const pending = SharedMemory.createAsync(64 << 20, { name });
    void pending.finally(() => (settled = true));
    // The block exists from the start (shm_open, ftruncate): attach, use and close it meanwhile.
    const other = SharedMemory.attach(name);
    const view = other.buf;
    other.close();
    expect(() => view.fill(7)).not.toThrow(); // a closed view writes to private memory, not the block
    await Promise.resolve();
    expect(settled).toBe(false); // all of that happened while the thread pool was still at work
    const shm = await pending;
    try {
      expect([shm.size, shm.buf[0], shm.buf[(64 << 20) - 1]]).toEqual([64 << 20, 0, 0]);
      shm.buf[1] = 9;
      const again = SharedMemory.attach(name);
      expect(again.buf[1]).toBe(9);
      again.close();
    } finally {
      shm.close().unlink();
    }
  });

  it('survives its thread being terminated mid-create: no crash, and the tracker unlinks the block at exit', async () => {
    // A worker thread starts a 1 GiB createAsync and is terminated while the
    // thread pool reserves and populates; its environment's teardown runs the
    // finalizers meanwhile. The process carries on (GC, more blocks) and exits.
    const r = await runNode(`
      const { Worker } = await import('node:worker_threads');
      const { SharedMemory } = await import(core);
      SharedMemory.create(1).close().unlink(); // the tracker starts here, not in the worker
      const thread = new Worker(\`
        import { parentPort } from 'node:worker_threads';
        const { SharedMemory } = await import(\${JSON.stringify(core)});
        const pending = SharedMemory.createAsync(1 << 30);
        parentPort.postMessage('pending');
        await pending;
        parentPort.postMessage('created');\`, { eval: true, execArgv: ['--input-type=module'] });
      let created = false;
      thread.on('message', (m) => { if (m === 'created') created = true; });
      await new Promise((resolve) => thread.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, 30));
      await thread.terminate();
      if (created) throw new Error('the create finished before the worker was terminated: nothing was tested');
      for (let i = 0; i < 20; i++) { globalThis.gc(); SharedMemory.create(1 << 20).close().unlink(); }
      const left = (await import('node:fs')).readdirSync('/dev/shm').filter((n) => !${JSON.stringify(listShm())}.includes(n));
      console.log(JSON.stringify(left));
    `, { nodeArgs: ['--expose-gc'], timeoutMs: 60_000 });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: expect.stringContaining('unlinked:') });
    const [name] = JSON.parse(r.stdout) as string[];
    expect(name).toMatch(/^psm_[0-9a-f]{8}$/); // the abandoned block, still registered…
    expect(r.stderr).toContain(`unlinked: ${name}`); // …was unlinked by the tracker when the process exited
    expect(shmExists(name!)).toBe(false);
  });

  it("populates by touching each page where the kernel lacks MADV_POPULATE_WRITE (the fallback's own path)", async () => {
    // This kernel has MADV_POPULATE_WRITE, so createAsync never takes the
    // fallback here: drive the binding's touch mode directly.
    const { native } = await import('../src/native.js');
    const shm = SharedMemory.create(1 << 20, { populate: false });
    try {
      shm.buf[4096] = 5;
      expect(resident(shm.name)).toEqual([4]);
      const buffer = shm.buf.buffer as ArrayBuffer;
      expect(await native.populateAsync(buffer, true)).toBe(0);
      expect(resident(shm.name)).toEqual([1024]);
      expect([shm.buf[4096], shm.buf.every((b, i) => b === (i === 4096 ? 5 : 0))]).toEqual([5, true]); // no byte changed
      expect(await native.populateAsync(buffer, false)).toBe(0);
    } finally {
      shm.close().unlink();
    }
  });

  describe('ENOSPC on a full /dev/shm (private 1 MiB tmpfs)', () => {
    it('rejects with ENOSPC from posix_fallocate and leaves no block behind', () => {
      const script = `
        import(process.env.CORE).then(async ({ SharedMemory }) => {
          const out = {};
          try { await SharedMemory.createAsync(2 << 20); out.reserved = 'created'; } catch (e) { out.reserved = [e.code, e.syscall]; }
          const s = await SharedMemory.createAsync(2 << 20, { reserve: false, populate: false });
          out.unreserved = s.size; s.close().unlink();
          out.left = (await import('node:fs')).readdirSync('/dev/shm');
          console.log(JSON.stringify(out));
        });`;
      const r = spawnSync('unshare', ['-m', 'sh', '-c',
        `mount -t tmpfs -o size=1m tmpfs /dev/shm && exec "$0" --input-type=module -e "$1"`, process.execPath, script],
        { encoding: 'utf8', env: { ...process.env, CORE: entries.core } });
      if (r.error || (r.status !== 0 && /unshare|mount/.test(r.stderr))) {
        throw new Error(`this test needs a private mount namespace (root or unprivileged user namespaces for unshare -m): ${r.stderr || r.error?.message}`);
      }
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ reserved: ['ENOSPC', 'posix_fallocate'], unreserved: 2 << 20, left: [] });
    });
  });
});

describe('Tensor.createAsync', () => {
  it('makes the tensor create makes (same header, layout and handle), and numpy reads it', async () => {
    const options = { dtype: 'int16', shape: [3, 5], order: 'F' } as const;
    const sync = Tensor.create(options);
    const async = await Tensor.createAsync(options);
    try {
      const { name: _a, ...layout } = async.handle;
      const { name: _s, ...expected } = sync.handle;
      expect(layout).toEqual(expected);
      expect(Buffer.from(async.shm.buf)).toEqual(Buffer.from(sync.shm.buf));
      async.data.set([1, 2, 3], 0);
      const r = await runPython(python3(), `import shmbridge; a = shmbridge.ndarray(${JSON.stringify(async.shm.name)}); print(a.dtype, a.shape, a.flags.f_contiguous, a[:, 0].tolist())`);
      expect(r.stdout.trim()).toBe('int16 (3, 5) True [1, 2, 3]');
    } finally {
      sync.close();
      sync.shm.unlink();
      async.close();
      async.shm.unlink();
    }
  });

  it('rejects bad options before creating anything', async () => {
    const before = listShm();
    const err = await rejection(Tensor.createAsync({ dtype: '>f4' as never, shape: [2] }));
    expect([err.name, (err as { code?: string }).code]).toEqual(['TypeError', 'ERR_INVALID_ARG_VALUE']);
    expect(listShm()).toEqual(before);
  });
});
