import { describe, expect, it } from '@jest/globals';
import { runNode } from '@shmbridge/testkit';

// Random sequences of public calls, run in a child process so that a crash
// (SIGSEGV/SIGBUS from touching unmapped memory) shows up as a signal instead
// of taking the test runner down. fast-check generates the sequences; any
// JS exception is fine (it must be a clear error), a signal is not.
describe('SharedMemory safety', () => {
  it('survives 300 random sequences of create/attach/view/read/write/close/unlink/GC', async () => {
    const r = await runNode(`
      const fc = (await import('fast-check')).default;
      const { SharedMemory } = await import(core);
      const ops = fc.array(fc.oneof(
        fc.record({ op: fc.constant('create'), size: fc.integer({ min: 1, max: 1 << 16 }) }),
        fc.record({ op: fc.constantFrom('attach', 'close', 'unlink', 'buf', 'gc', 'drop') , i: fc.nat(5) }),
        fc.record({ op: fc.constant('view'), i: fc.nat(5), ctor: fc.constantFrom('Uint8Array', 'Float64Array', 'BigInt64Array', 'DataView'), offset: fc.integer({ min: -8, max: 1 << 16 }), length: fc.option(fc.integer({ min: -1, max: 1 << 14 })) }),
        fc.record({ op: fc.constantFrom('read', 'write', 'iterate'), v: fc.nat(20), at: fc.integer({ min: -2, max: 1 << 16 }) }),
      ), { maxLength: 40 });
      let runs = 0, errors = 0;
      fc.assert(fc.property(ops, (seq) => {
        runs++;
        const blocks = [], views = [], names = new Set();
        for (const s of seq) {
          try {
            const b = blocks[s.i % Math.max(blocks.length, 1)];
            switch (s.op) {
              case 'create': { const x = SharedMemory.create(s.size); names.add(x.name); blocks.push(x); break; }
              case 'attach': if (b) blocks.push(SharedMemory.attach(b.name)); break;
              case 'close': b?.close(); break;
              case 'unlink': if (b) { names.delete(b.name); b.unlink(); } break;
              case 'buf': if (b) views.push(b.buf); break;
              case 'view': if (b) views.push(b.view(globalThis[s.ctor], { offset: s.offset, length: s.length ?? undefined })); break;
              case 'gc': globalThis.gc(); break;
              case 'drop': blocks.splice(s.i % Math.max(blocks.length, 1), 1); views.length = 0; break;
              case 'read': for (const v of views) { if (v instanceof DataView) v.getUint8(Math.max(0, s.at) % Math.max(v.byteLength, 1)); else void v[s.at]; } break;
              case 'write': for (const v of views) { if (v instanceof DataView) v.setUint8(0, s.v); else if (v instanceof BigInt64Array) v[s.at] = BigInt(s.v); else v[s.at] = s.v; } break;
              case 'iterate': for (const v of views) { if (!(v instanceof DataView)) for (const x of v) { void x; break; } } break;
            }
          } catch (e) {
            if (!(e instanceof Error) || !(e.code || e instanceof TypeError || e instanceof RangeError)) throw e;
            errors++;
          }
        }
        for (const b of blocks) b.close();
        for (const n of names) { try { SharedMemory.attach(n).close().unlink(); } catch (e) { if (e.code !== 'ENOENT') throw e; } }
      }), { numRuns: 300, seed: 42 });
      globalThis.gc();
      console.log(runs, errors > 0);
    `, { nodeArgs: ['--expose-gc'], timeoutMs: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('300 true');
  });
});
