import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { python, startPython, type Python } from '@shmbridge/testkit';
import { Connection, answerChallenge, deliverChallenge } from '../src/manager/connection.js';

const AUTHKEY = Buffer.from('correct horse battery staple');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function socketPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shmbridge-conn-'));
  dirs.push(dir);
  return join(dir, 'sock');
}

/** A TS listener doing what multiprocessing.connection.Listener.accept does: challenge, then answer. */
function listen(path: string, authkey: Buffer, onConn: (c: Connection) => Promise<void>): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      const c = new Connection(socket);
      (async () => {
        await deliverChallenge(c, authkey);
        await answerChallenge(c, authkey);
        await onConn(c);
      })().catch(() => c.destroy());
    });
    server.listen(path, () => resolve(server));
  });
}

describe.each([[8], [11], [13]])('multiprocessing.connection with CPython 3.%i', (minor) => {
  const py = (): Python => python(minor);

  it('TS client: mutual auth with a CPython Listener, then frames both ways', async () => {
    const path = socketPath();
    const p = startPython(py(), `
from multiprocessing.connection import Listener
import sys
with Listener(${JSON.stringify(path)}, authkey=${JSON.stringify(AUTHKEY.toString())}.encode()) as l:
    print('listening', flush=True)
    with l.accept() as c:
        data = c.recv_bytes()
        c.send_bytes(data[::-1] + bytes([len(data) % 256]))
        big = c.recv_bytes()
        c.send_bytes(str(len(big)).encode())
`);
    await p.firstLine();
    const c = await Connection.connect(path);
    await answerChallenge(c, AUTHKEY);
    await deliverChallenge(c, AUTHKEY);
    c.sendBytes(Buffer.from('hello'));
    expect((await c.recvBytes()).toString('latin1')).toBe('olleh\x05');
    c.sendBytes(Buffer.alloc(100_000, 7));
    expect((await c.recvBytes()).toString()).toBe('100000');
    c.close();
    await p.done;
  });

  it('TS listener: a CPython Client authenticates and exchanges frames', async () => {
    const path = socketPath();
    const server = await listen(path, AUTHKEY, async (c) => {
      const got = await c.recvBytes();
      c.sendBytes(Buffer.concat([Buffer.from('echo:'), got]));
    });
    try {
      const p = startPython(py(), `
from multiprocessing.connection import Client
with Client(${JSON.stringify(path)}, authkey=${JSON.stringify(AUTHKEY.toString())}.encode()) as c:
    c.send_bytes(b'ping')
    print(c.recv_bytes().decode())
`);
      expect((await p.done).stdout.trim()).toBe('echo:ping');
    } finally {
      server.close();
    }
  });

  it('refuses a wrong authkey both ways (CPython raises AuthenticationError)', async () => {
    const path = socketPath();
    const served: string[] = [];
    const server = await listen(path, AUTHKEY, async () => {
      served.push('request');
    });
    try {
      const p = startPython(py(), `
from multiprocessing.connection import Client
from multiprocessing import AuthenticationError
try:
    Client(${JSON.stringify(path)}, authkey=b'wrong key')
    print('connected')
except AuthenticationError as e:
    print('AuthenticationError')
`);
      expect((await p.done).stdout.trim()).toBe('AuthenticationError');
      expect(served).toEqual([]);
    } finally {
      server.close();
    }

    const path2 = socketPath();
    const q = startPython(py(), `
from multiprocessing.connection import Listener
from multiprocessing import AuthenticationError
with Listener(${JSON.stringify(path2)}, authkey=b'the real key') as l:
    print('listening', flush=True)
    try:
        l.accept()
        print('accepted')
    except (AuthenticationError, EOFError, ConnectionError) as e:
        print(type(e).__name__)
`);
    await q.firstLine();
    const c = await Connection.connect(path2);
    await expect(answerChallenge(c, Buffer.from('not it'))).rejects.toMatchObject({ code: 'ERR_SHM_AUTH', name: 'AuthenticationError' });
    c.destroy();
    expect((await q.done).stdout.trim().split('\n')[1]).toBe('AuthenticationError');
  });
});

describe('Connection frames', () => {
  it('refuses a 4 GiB length prefix (the 8-byte header form) from the header alone', async () => {
    const path = socketPath();
    const server = createServer((s) => {
      const huge = Buffer.alloc(12);
      huge.writeInt32BE(-1, 0);
      huge.writeBigUInt64BE(4n << 30n, 4);
      s.write(huge);
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const c = await Connection.connect(path);
      await expect(c.recvBytes(1 << 20)).rejects.toMatchObject({ code: 'ERR_SHM_FRAME_TOO_LARGE' });
      c.destroy();
    } finally {
      server.close();
    }
  });

  it('fails a read cut short by EOF with ERR_SHM_CONNECTION', async () => {
    const path = socketPath();
    const server = createServer((s) => {
      const header = Buffer.alloc(4);
      header.writeInt32BE(100, 0);
      s.end(Buffer.concat([header, Buffer.alloc(10)]));
    });
    await new Promise<void>((r) => server.listen(path, r));
    try {
      const c = await Connection.connect(path);
      await expect(c.recvBytes()).rejects.toMatchObject({ code: 'ERR_SHM_CONNECTION', message: 'got end of file during message' });
      c.destroy();
    } finally {
      server.close();
    }
  });
});
