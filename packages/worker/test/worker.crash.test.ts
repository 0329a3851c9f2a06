import { describe, expect, it } from '@jest/globals';
import { Tensor } from '@shmbridge/core';
import { listShm, python3, spawnNode, type Python } from '@shmbridge/testkit';
import { Output, alive, eventually, fixtures, interpreters, startWorker } from './helpers/start.js';

/** Waits until the worker printed `text` (the call is then running). */
function printed(output: Output, text: string): Promise<void> {
  return eventually(() => output.stdout.includes(text), 20_000, `the worker to print '${text}'`);
}

describe('a worker that dies mid-call', () => {
  it('killed by SIGKILL (from outside): pending calls reject ERR_WORKER_EXITED, and no block of either side is left', async () => {
    const before = listShm();
    const output = new Output();
    const w = await startWorker(python3(), 'arrays.py', { onOutput: output.handler });
    using t = Tensor.create({ dtype: 'float32', shape: [8] });
    const call = w.call('hold_zeros', [30, Float64Array.from([1, 2]), t]).catch((e: unknown) => e);
    const behind = w.call('total', [t]).catch((e: unknown) => e);
    await printed(output, 'holding');
    // Mid-call: Node's copy of the Float64Array and Python's worker.zeros block exist.
    expect(listShm().filter((n) => !before.includes(n))).toHaveLength(3);
    process.kill(w.pid, 'SIGKILL');
    for (const err of [await call, await behind]) expect(err).toMatchObject({ code: 'ERR_WORKER_EXITED', signal: 'SIGKILL', exitCode: null });
    expect(await w.exited).toEqual({ code: null, signal: 'SIGKILL' });
    t.close();
    t.shm.unlink();
    // Python's resource tracker unlinks the result block it never handed over.
    await eventually(() => listShm().join() === before.join(), 10_000, '/dev/shm to be as before');
  });

  it.each(interpreters().map((p) => [p.label, p] as const))('os._exit mid-call rejects that call with exitCode and stderr (%s)', async (_label, interp: Python) => {
    const before = listShm();
    const w = await startWorker(interp, 'plain.py');
    const big = Buffer.alloc(2 << 20, 3); // over 1 MiB: a block made for the call
    const err = await w.call('die', [7, 'fatal: out of patience', big]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_WORKER_EXITED', exitCode: 7, signal: null, stderr: expect.stringContaining('fatal: out of patience') });
    expect((err as Error).message).toContain('exited with code 7');
    expect((err as Error).message).toContain('fatal: out of patience');
    expect(await w.exited).toEqual({ code: 7, signal: null });
    await expect(w.call('identity', [1])).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED', exitCode: 7 });
    expect(listShm()).toEqual(before);
  });

  it('sys.exit() in a call ends the worker with that code', async () => {
    const w = await startWorker(python3(), 'plain.py');
    await expect(w.call('exit_worker', [5])).rejects.toMatchObject({ code: 'ERR_WORKER_EXITED', exitCode: 5 });
    expect(await w.exited).toEqual({ code: 5, signal: null });
  });
});

describe('the Node process ending', () => {
  it('SIGKILLed mid-call: the worker exits too, and /dev/shm holds nothing of either', async () => {
    const before = listShm();
    const node = spawnNode(`
      const { PythonWorker } = await import(worker);
      const { Tensor } = await import(core);
      const w = await PythonWorker.start({
        module: 'arrays.py', cwd: ${JSON.stringify(fixtures)}, python: ${JSON.stringify(python3().executable)},
        onOutput: (text) => { if (text.includes('holding')) console.log(JSON.stringify({ pid: w.pid })); },
      });
      const t = Tensor.create({ dtype: 'float32', shape: [16] });
      await w.call('hold_zeros', [60, Float32Array.from([1, 2, 3]), t]);
    `);
    let out = '';
    node.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    let err = '';
    node.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    await eventually(() => out.includes('\n'), 30_000, `the child to start its call (stderr: ${err})`);
    const { pid } = JSON.parse(out) as { pid: number };
    expect(alive(pid)).toBe(true);
    expect(listShm().filter((n) => !before.includes(n))).toHaveLength(3); // Node's tensor and copy, Python's result block
    node.kill('SIGKILL');
    await eventually(() => !alive(pid), 10_000, 'the worker to exit');
    await eventually(() => listShm().join() === before.join(), 10_000, '/dev/shm to be as before');
  });

  it('an idle worker does not keep Node alive; when Node exits the worker exits', async () => {
    const node = spawnNode(`
      const { PythonWorker } = await import(worker);
      const w = await PythonWorker.start({ module: 'plain.py', cwd: ${JSON.stringify(fixtures)}, python: ${JSON.stringify(python3().executable)} });
      console.log(JSON.stringify({ pid: w.pid, n: await w.call('identity', [3]) }));
      // no close(): the script simply ends
    `);
    let out = '';
    node.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise((resolve) => node.on('close', resolve));
    expect(code).toBe(0);
    const { pid, n } = JSON.parse(out) as { pid: number; n: number };
    expect(n).toBe(3);
    await eventually(() => !alive(pid), 10_000, 'the worker to exit');
  });

  it('exits while a call is pending: the worker is gone with it', async () => {
    const node = spawnNode(`
      const { PythonWorker } = await import(worker);
      const w = await PythonWorker.start({ module: 'plain.py', cwd: ${JSON.stringify(fixtures)}, python: ${JSON.stringify(python3().executable)} });
      console.log(JSON.stringify({ pid: w.pid }));
      w.call('sleep', [60]);
      setTimeout(() => process.exit(0), 200);
    `);
    let out = '';
    node.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    expect(await new Promise((resolve) => node.on('close', resolve))).toBe(0);
    const { pid } = JSON.parse(out) as { pid: number };
    await eventually(() => !alive(pid), 10_000, 'the worker to exit');
  });
});

