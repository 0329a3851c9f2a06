import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SharedMemoryManager, dumps, py, PyCall, PyGlobal } from '@shmbridge/python-compat';
import { childPids, firstLine, finished, python, runPython, shmExists, spawnNode, startPython, type Python } from '@shmbridge/testkit';
import { Connection, answerChallenge, deliverChallenge } from '../src/manager/connection.js';

const PY_MANAGER = fileURLToPath(new URL('./fixtures/py_manager.py', import.meta.url));
const gone = (names: string[]) => names.filter((n) => shmExists(n));

async function waitFor(cond: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

/** The manager process an owner started (its one child running server-main). */
function managerPid(owner: number): number {
  const pids = childPids(owner, /server-main/);
  if (pids.length !== 1) throw new Error(`expected one manager process under ${owner}, found [${pids.join(', ')}]`);
  return pids[0]!;
}

function pyClient(address: SharedMemoryManager['address']): string {
  return typeof address === 'string' ? JSON.stringify(address) : `(${JSON.stringify(address[0])}, ${address[1]})`;
}

describe.each([[8], [11], [13]])('SharedMemoryManager with CPython 3.%i', (minor) => {
  const py = (): Python => python(minor);

  it.each([['TCP', '127.0.0.1:0'], ['a Unix socket', 'unix']])('TS client uses a manager CPython started (%s); CPython\'s shutdown unlinks the blocks', async (_l, where) => {
    const dir = mkdtempSync(join(tmpdir(), 'shmbridge-pym-'));
    const p = startPython(py(), `import runpy, sys; sys.argv = ['py_manager.py', ${JSON.stringify(where === 'unix' ? join(dir, 'sock') : where)}, 'k3y']; runpy.run_path(${JSON.stringify(PY_MANAGER)}, run_name='__main__')`);
    try {
      const { address } = JSON.parse(await p.firstLine());
      const smm = await new SharedMemoryManager({ address, authkey: 'k3y' }).connect();
      const shm = await smm.SharedMemory(100);
      const sl = await smm.ShareableList(['x', 1]);
      expect(shm.tracked).toBe(false); // the manager owns them
      expect(await smm.listSegments()).toEqual([shm.name, sl.shm.name]);
      shm.buf[0] = 1;
      shm.close();
      sl.close();
      p.send('shutdown\n');
      await p.done;
      expect(gone([shm.name, sl.shm.name])).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('CPython clients use a manager TS started (TCP and Unix socket); the TS shutdown unlinks their blocks', async () => {
    for (const address of [['127.0.0.1', 0] as const, undefined]) {
      const smm = await SharedMemoryManager.start({ address: address as never, authkey: 'k3y' });
      const r = await runPython(py(), `
from multiprocessing.managers import SharedMemoryManager
from multiprocessing import resource_tracker
smm = SharedMemoryManager(address=${pyClient(smm.address)}, authkey=b'k3y')
smm.connect()
s = smm.SharedMemory(64); l = smm.ShareableList([1, 'a'])
for o in (s, l.shm):
    resource_tracker.unregister(o._name, "shared_memory")  # the manager owns them, not this client
print(s.name, l.shm.name)
s.close(); l.shm.close()
`);
      const names = r.stdout.trim().split(' ');
      expect(await smm.listSegments()).toEqual(names);
      expect(gone(names)).toEqual(names);
      await smm.shutdown();
      expect(gone(names)).toEqual([]);
    }
  });

  it('refuses a wrong authkey both ways', async () => {
    const smm = await SharedMemoryManager.start({ authkey: 'right' });
    try {
      const r = await runPython(py(), `
from multiprocessing.managers import SharedMemoryManager
from multiprocessing import AuthenticationError
try:
    SharedMemoryManager(address=${pyClient(smm.address)}, authkey=b'wrong').connect()
    print('connected')
except AuthenticationError:
    print('AuthenticationError')
`);
      expect(r.stdout.trim()).toBe('AuthenticationError');
    } finally {
      await smm.shutdown();
    }
    const p = startPython(py(), `import runpy, sys; sys.argv = ['py_manager.py', '127.0.0.1:0', 'right']; runpy.run_path(${JSON.stringify(PY_MANAGER)}, run_name='__main__')`);
    const { address } = JSON.parse(await p.firstLine());
    await expect(new SharedMemoryManager({ address, authkey: 'wrong' }).connect()).rejects.toMatchObject({ code: 'ERR_SHM_AUTH' });
    p.send('shutdown\n');
    await p.done;
  });

  it('an unknown request gets CPython\'s error reply', async () => {
    const smm = await SharedMemoryManager.start({ authkey: 'k' });
    try {
      const r = await runPython(py(), `
from multiprocessing.connection import Client
from multiprocessing.managers import dispatch, RemoteError
with Client(${pyClient(smm.address)}, authkey=b'k') as c:
    try:
        dispatch(c, None, 'format_disk')
    except RemoteError as e:
        print('RemoteError', str(e).strip().splitlines()[-2])
`);
      expect(r.stdout.trim()).toBe("RemoteError AssertionError: 'format_disk' unrecognized");
    } finally {
      await smm.shutdown();
    }
  });
});

describe('SharedMemoryManager (TS server) under attack', () => {
  async function authed(smm: SharedMemoryManager): Promise<Connection> {
    const c = await Connection.connect(smm.address);
    await answerChallenge(c, smm.authkey);
    await deliverChallenge(c, smm.authkey);
    return c;
  }

  it('survives garbage, empty and truncated frames and a hostile pickle, and keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shmbridge-attack-'));
    const marker = join(dir, 'pwned');
    const smm = await SharedMemoryManager.start();
    try {
      // Garbage instead of the handshake: dropped without reading a request.
      const g = await Connection.connect(smm.address);
      await g.recvBytes(256); // the challenge
      g.sendBytes(Buffer.from('hello? '.repeat(10)));
      await expect(g.recvBytes()).resolves.toEqual(Buffer.from('#FAILURE#'));
      // An empty frame is not a request.
      const empty = await authed(smm);
      empty.sendBytes(Buffer.alloc(0));
      expect((await empty.recvBytes()).toString('latin1')).toContain('#TRACEBACK');
      // A truncated frame, then the peer hangs up.
      const cut = await authed(smm);
      cut.sendBytes(dumps(py.tuple(null, 'dummy', py.tuple(), new Map())).subarray(0, 10));
      expect((await cut.recvBytes()).toString('latin1')).toContain('#TRACEBACK');
      // A hostile pickle: os.system('touch marker') as a request.
      const evil = await authed(smm);
      evil.sendBytes(dumps(new PyCall(new PyGlobal('os', 'system'), py.tuple(`touch ${marker}`))));
      const reply = (await evil.recvBytes()).toString('latin1');
      expect(reply).toContain('#TRACEBACK');
      expect(reply).toContain('global os.system is not allowed');
      expect(existsSync(marker)).toBe(false);
      // And a good client is still served.
      const shm = await smm.SharedMemory(16);
      expect(await smm.listSegments()).toEqual([shm.name]);
      shm.close();
    } finally {
      await smm.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves several requests on one authenticated connection (what the TS client does with its own manager)', async () => {
    const smm = await SharedMemoryManager.start();
    try {
      const c = await authed(smm);
      for (const funcname of ['dummy', 'list_segments', 'dummy']) {
        c.sendBytes(dumps(py.tuple(null, funcname, py.tuple(), new Map())));
        expect((await c.recvBytes()).toString('latin1')).toContain('#RETURN');
      }
      c.destroy();
    } finally {
      await smm.shutdown();
    }
  });

  it('refuses a 4 GiB frame from its length prefix alone', async () => {
    const smm = await SharedMemoryManager.start();
    try {
      // A raw socket, so the 12-byte header can be written without a body behind it.
      const { connect } = await import('node:net');
      const raw = connect(smm.address as string);
      await new Promise((r) => raw.once('connect', r));
      const rc = new Connection(raw);
      await answerChallenge(rc, smm.authkey);
      await deliverChallenge(rc, smm.authkey);
      const header = Buffer.alloc(12);
      header.writeInt32BE(-1, 0);
      header.writeBigUInt64BE(4n << 30n, 4);
      raw.write(header);
      expect((await rc.recvBytes()).toString('latin1')).toContain('exceeds the limit');
      rc.destroy();
      expect(await smm.connect()).toBe(smm);
    } finally {
      await smm.shutdown();
    }
  });
});

describe('SharedMemoryManager lifecycle', () => {
  it('defaults to a Unix socket in a private 0700 directory and a 32-byte random authkey', async () => {
    const smm = await SharedMemoryManager.start();
    try {
      expect(typeof smm.address).toBe('string');
      expect(statSync(dirname(smm.address as string)).mode & 0o777).toBe(0o700);
      expect(smm.authkey.length).toBe(32);
      expect(smm.authkey.equals(Buffer.alloc(32))).toBe(false);
    } finally {
      await smm.shutdown();
      await smm.shutdown(); // idempotent
    }
    expect(existsSync(dirname(smm.address as string))).toBe(false);
  });

  it('owner SIGKILL: the manager unlinks every block and exits within a second', async () => {
    const owner = spawnNode(`
      const { SharedMemoryManager } = await import(pythonCompat);
      const smm = await SharedMemoryManager.start();
      const a = await smm.SharedMemory(4096);
      const b = await smm.ShareableList([1, 2]);
      console.log(JSON.stringify({ names: [a.name, b.shm.name] }));
      setInterval(() => {}, 1000);
    `);
    const { names } = JSON.parse(await firstLine(owner)) as { names: string[] };
    const pid = managerPid(owner.pid!);
    expect(gone(names)).toEqual(names);
    owner.kill('SIGKILL');
    await finished(owner);
    // Exited means gone from /proc or a zombie waiting for init to reap it (its parent was killed).
    const alive = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    expect(await waitFor(() => !alive() && gone(names).length === 0, 1000)).toBe(true);
  });

  it('pipelines requests to a manager it started: 200 calls at once are tracked in call order, and an owner SIGKILL right after leaves nothing', async () => {
    const owner = spawnNode(`
      const { SharedMemoryManager } = await import(pythonCompat);
      const smm = await SharedMemoryManager.start();
      await smm.connect();
      const made = await Promise.all(Array.from({ length: 200 }, (_, i) => i % 2 ? smm.SharedMemory(4096) : smm.ShareableList([i]).then((sl) => sl.shm)));
      const listed = await smm.listSegments();
      const more = await Promise.all(Array.from({ length: 50 }, () => smm.SharedMemory(4096)));
      // Printed before any reply to the last 50 is read: they are in flight when the test kills us.
      console.log(JSON.stringify({ names: made.map((b) => b.name), listed, more: more.map((b) => b.name) }));
      setInterval(() => {}, 1000);
    `);
    const { names, listed, more } = JSON.parse(await firstLine(owner)) as { names: string[]; listed: string[]; more: string[] };
    const pid = managerPid(owner.pid!);
    expect(listed).toEqual(names);
    expect(new Set([...names, ...more]).size).toBe(250);
    expect(gone([...names, ...more])).toHaveLength(250);
    owner.kill('SIGKILL');
    await finished(owner);
    const exited = () => {
      try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      } catch {
        return true;
      }
    };
    expect(await waitFor(() => exited() && gone([...names, ...more]).length === 0, 2000)).toBe(true);
  });

  it('does not keep its owner alive: an owner that just ends takes its blocks with it', async () => {
    const r = await finished(spawnNode(`
      const { SharedMemoryManager } = await import(pythonCompat);
      const smm = await SharedMemoryManager.start();
      const a = await smm.SharedMemory(64);
      console.log(a.name);
    `), 20_000);
    expect(r.signal).toBeNull();
    const name = r.stdout.trim();
    expect(await waitFor(() => !shmExists(name), 2000)).toBe(true);
  });

  it('8 Python clients × 100 blocks concurrently: every block tracked, every block unlinked at shutdown', async () => {
    const smm = await SharedMemoryManager.start({ authkey: 'many' });
    try {
      const clients = Array.from({ length: 8 }, () => runPython(python(13), `
from multiprocessing.managers import SharedMemoryManager
from multiprocessing import resource_tracker
smm = SharedMemoryManager(address=${pyClient(smm.address)}, authkey=b'many')
smm.connect()
names = []
for i in range(100):
    s = smm.SharedMemory(4096)
    resource_tracker.unregister(s._name, "shared_memory")
    names.append(s.name)
    s.close()
print(" ".join(names))
`));
      const names = (await Promise.all(clients)).flatMap((r) => r.stdout.trim().split(' '));
      expect(new Set(names).size).toBe(800);
      expect((await smm.listSegments()).sort()).toEqual([...names].sort());
      await smm.shutdown();
      expect(gone(names)).toEqual([]);
    } finally {
      await smm.shutdown();
    }
  });
});
