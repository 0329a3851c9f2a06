import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { runNode } from '@shmbridge/testkit';

// Blocks dropped without close() in a loop that never yields are only
// unmapped once the event loop runs (Node runs the finalizers from it). Such a
// loop reaches the kernel's per-process mapping limit long before any byte
// budget; past it V8 itself cannot allocate and aborts the process. A new
// mapping must be refused with ENOMEM while V8 still has room.
describe('SharedMemory mapping limit (vm.max_map_count)', () => {
  it('refuses a mapping with ENOMEM before the process runs out, and recovers once the loop yields', async () => {
    const limit = Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8'));
    expect(limit).toBeLessThan(200_000); // the test needs to reach the limit: say so if a machine raised it
    const r = await runNode(`
      const { SharedMemory } = await import(core);
      const { readFileSync } = await import('node:fs');
      const vmas = () => readFileSync('/proc/self/maps', 'utf8').split('\\n').length - 1;
      const names = [];
      let refused;
      for (let i = 0; i < ${limit + 15_000}; i++) {
        try {
          const s = SharedMemory.create(4096);   // tracked, reserved, populated: the defaults
          s.unlink();
          names.push(s.name + ':' + i);          // keep V8 allocating, as real code does
        } catch (e) {
          refused = { i, code: e.code, syscall: e.syscall, message: e.message, vmas: vmas() };
          break;
        }
      }
      for (let k = 0; k < 20 && vmas() > 2000; k++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); }
      const again = SharedMemory.create(4096);
      again.close().unlink();
      console.log(JSON.stringify({ refused, after: vmas() }));
    `, { nodeArgs: ['--expose-gc'], timeoutMs: 120_000 });
    expect(r.signal).toBeNull();
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { refused, after } = JSON.parse(r.stdout);
    expect(refused).toEqual(expect.objectContaining({ code: 'ENOMEM', syscall: 'mmap' }));
    expect(refused.message).toMatch(/vm\.max_map_count/);
    expect(refused.vmas).toBeLessThanOrEqual(limit - 4096); // room left for V8 and malloc
    expect(after).toBeLessThan(2000); // the GC unmapped what was dropped
  });
});
