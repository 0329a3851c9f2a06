import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SharedMemory } from '@shmbridge/core';
import { runNode } from '@shmbridge/testkit';

function mappedInThisProcess(name: string): boolean {
  return readFileSync('/proc/self/maps', 'utf8').includes(`/dev/shm/${name}`);
}

describe('SharedMemory#close', () => {
  it('unmaps: views handed out keep their length but read zeros, and writes through them reach nobody', () => {
    const shm = SharedMemory.create(4096);
    const other = SharedMemory.attach(shm.name);
    const buf = shm.buf;
    const f64 = shm.view(Float64Array);
    const dv = shm.view(DataView);
    buf.fill(7);
    expect(mappedInThisProcess(shm.name)).toBe(true);
    shm.close();
    expect(buf.length).toBe(4096);
    expect(f64.length).toBe(512);
    expect(buf.every((b) => b === 0)).toBe(true);
    expect(dv.getUint8(0)).toBe(0);
    buf.fill(9);
    f64[1] = 1.5;
    expect(other.buf.every((b) => b === 7)).toBe(true); // the block never saw them
    other.close();
    expect(mappedInThisProcess(shm.name)).toBe(false);
    shm.unlink();
  });

  it('is idempotent and returns this', () => {
    const shm = SharedMemory.create(16);
    expect(shm.close()).toBe(shm);
    expect(shm.close()).toBe(shm);
    expect(shm.closed).toBe(true);
    shm.unlink();
  });

  it('refuses buf and view after close with ERR_SHM_CLOSED, naming the block', () => {
    const shm = SharedMemory.create(16);
    shm.close();
    expect(() => shm.buf).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED', message: `SharedMemory '${shm.name}' is closed` }));
    expect(() => shm.view(Uint8Array)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED' }));
    shm.unlink();
  });

  it('lets stale views be iterated and set after close, as zeros, never touching unmapped memory', () => {
    const shm = SharedMemory.create(8);
    const u8 = shm.view(Uint8Array);
    u8.fill(3);
    shm.close().unlink();
    u8[0] = 1;
    u8.set([1, 2, 3], 4);
    expect([...u8]).toEqual([1, 0, 0, 0, 1, 2, 3, 0]); // private memory, zero-filled at close
  });

  it('closes through Symbol.dispose (the using statement)', () => {
    const shm = SharedMemory.create(8);
    shm[Symbol.dispose]();
    expect(shm.closed).toBe(true);
    shm.unlink();
  });

  it('cannot be detached by transferring its buffer (no use-after-unmap): a transfer copies', async () => {
    const { MessageChannel } = await import('node:worker_threads');
    const shm = SharedMemory.create(8);
    const { port1, port2 } = new MessageChannel();
    try {
      shm.buf[0] = 9;
      const ab = shm.buf.buffer as ArrayBuffer;
      // Node 20 copies buffers marked untransferable (Node 21+ throws); the mapping stays ours.
      const received = new Promise<ArrayBuffer>((res) => port2.once('message', res));
      try {
        port1.postMessage(ab, [ab]);
        const copy = new Uint8Array(await received);
        copy[0] = 1;
        expect(copy.length).toBe(8);
      } catch (e) {
        expect((e as Error).name).toBe('DataCloneError');
      }
      const clone = (() => {
        try { return new Uint8Array(structuredClone(ab, { transfer: [ab] })); } catch { return undefined; }
      })();
      if (clone) clone[0] = 2;
      expect(shm.buf.length).toBe(8);
      expect(shm.buf[0]).toBe(9);
    } finally {
      port1.close();
      port2.close();
      shm.close().unlink();
    }
  });

  it('in a child process: use after close, close during iteration and GC never crash it', async () => {
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const shm = SharedMemory.create(1 << 16);
      const views = [shm.buf, shm.view(Float64Array), shm.view(BigInt64Array), shm.view(DataView)];
      let n = 0;
      for (const b of shm.buf) { if (++n === 100) shm.close(); }
      for (const v of views) { try { v[0] = 1; v.fill?.(1); v.set?.([1]); v.getUint8?.(0); } catch {} }
      try { shm.buf; } catch (e) { if (e.code !== 'ERR_SHM_CLOSED') throw e; }
      shm.close(); shm.unlink();
      // Mappings dropped without close are unmapped by GC while views stay safe.
      let kept;
      for (let i = 0; i < 200; i++) { const s = SharedMemory.create(1 << 20); const v = s.view(Uint32Array); v[0] = i; if (i === 7) kept = v; s.unlink(); }
      globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); globalThis.gc();
      if (kept[0] !== 7) throw new Error('kept view lost its memory');
      console.log('alive', n);
    `, { nodeArgs: ['--expose-gc'] });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('alive 65536');
  });

  it('unmaps a block left unreachable when the GC collects it, and never unlinks it', async () => {
    const shm = SharedMemory.create(1 << 20, { track: false });
    try {
      const r = await runNode(`
        const { SharedMemory } = await import(core);
        const { readFileSync } = await import('node:fs');
        const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes(${JSON.stringify(shm.name)})).length;
        (() => { const s = SharedMemory.attach(${JSON.stringify(shm.name)}); s.buf[0] = 42; })();
        const before = mapped();
        for (let i = 0; i < 5 && mapped(); i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
        console.log(before, mapped());
      `, { nodeArgs: ['--expose-gc'] });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('1 0');
      expect(shm.buf[0]).toBe(42);
    } finally {
      shm.close().unlink();
    }
  });

  it('bounds what dropped-but-unclosed mappings hold: V8 is asked to collect past 1 GiB of growth', async () => {
    // 64 blocks of 256 MiB (16 GiB) dropped without close(): mappings are not
    // charged to V8, so without src/gc-pressure.ts nothing would collect them.
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const { readFileSync } = await import('node:fs');
      const live = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('/dev/shm/psm_')).length;
      let max = 0;
      for (let i = 0; i < 64; i++) {
        const s = SharedMemory.create(256 << 20, { track: false, reserve: false });
        s.buf[0] = 1;
        s.unlink();
        await new Promise((r) => setImmediate(r));
        max = Math.max(max, live());
      }
      console.log(max);
    `);
    expect(r.stderr).toBe('');
    const max = Number(r.stdout);
    expect(max).toBeGreaterThan(4); // 1 GiB of growth is allowed before asking
    expect(max).toBeLessThanOrEqual(24);
  });
});
