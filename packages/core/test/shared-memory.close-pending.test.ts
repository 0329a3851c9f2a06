import { describe, expect, it } from '@jest/globals';
import { runNode } from '@shmbridge/testkit';

// close() while Node's thread pool (or a socket) still uses the block's memory.
// Before the fix this crashed the process (SIGSEGV; zlib's bounds assertion),
// and a pending job wrote into the next block mapped at the same address,
// which CPython would then read. Each case runs in a child, so a crash shows
// as a signal. The child starts the job, closes the block at once, creates a
// block of the same size (munmap would have handed it the same address), and
// reports how many of that block's pages the job touched.
const SIZE = 64 << 20;

async function pending(start: string): Promise<{ touched: number; result: unknown }> {
  const r = await runNode(`
    const { SharedMemory } = await import(core);
    const crypto = await import('node:crypto'), zlib = await import('node:zlib'), fs = await import('node:fs'), net = await import('node:net');
    // A connected TCP pair, ready before the block exists.
    let received = 0, peerEnded;
    const ended = new Promise((r) => (peerEnded = r));
    const srv = net.createServer((peer) => { peer.on('data', (d) => (received += d.length)); peer.on('end', () => { srv.close(); peerEnded(received); }); });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    const client = net.connect(srv.address().port, '127.0.0.1');
    await new Promise((r) => client.on('connect', r));

    const a = SharedMemory.create(${SIZE}, { track: false });
    a.unlink();
    a.buf.fill(7);
    const buf = a.buf;
    const finished = new Promise((done) => { ${start} });
    a.close();
    const b = SharedMemory.create(${SIZE}, { track: false });
    b.unlink();
    const result = await finished;
    if (!client.destroyed) client.destroy();
    srv.close();
    let touched = 0;
    for (let i = 0; i < b.size; i += 4096) if (b.buf[i] !== 0) touched++;
    console.log(JSON.stringify({ touched, result }));
    b.close();
  `, { timeoutMs: 60_000 });
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

describe('SharedMemory#close with operations still pending', () => {
  it('never crashes or touches the next block: crypto.randomFill writing the block', async () => {
    const { touched, result } = await pending(`crypto.randomFill(buf, (err) => done(err?.message ?? 'ok'));`);
    expect(touched).toBe(0);
    expect(result).toBe('ok');
  });

  it('never crashes or touches the next block: zlib.deflate reading it in many chunks', async () => {
    // zlib re-checks its input between chunks: a detached buffer aborted the process there.
    const { touched, result } = await pending(`zlib.deflate(buf, (err, out) => done(err?.message ?? zlib.inflateSync(out).length));`);
    expect(touched).toBe(0);
    expect(result).toBe(SIZE); // what it read before close, then zeros
  });

  it('never crashes or touches the next block: fs.write reading it', async () => {
    const { touched, result } = await pending(`const fd = fs.openSync('/dev/null', 'w'); fs.write(fd, buf, (err, n) => { fs.closeSync(fd); done(err?.message ?? n); });`);
    expect(touched).toBe(0);
    expect(result).toBe(SIZE);
  });

  it('never crashes or touches the next block: fs.read writing it', async () => {
    const { touched, result } = await pending(`const fd = fs.openSync('/dev/urandom', 'r'); fs.read(fd, buf, 0, buf.length, null, (err, n) => { fs.closeSync(fd); done(err?.message ?? n > 0); });`);
    expect(touched).toBe(0);
    expect(result).toBe(true);
  });

  it('never crashes or touches the next block: a socket sending it', async () => {
    const { touched, result } = await pending(`client.end(buf); ended.then(done);`);
    expect(touched).toBe(0);
    expect(result).toBe(SIZE);
  });
});
