import { describe, expect, it } from '@jest/globals';
import { SharedMemoryManager } from '@shmbridge/python-compat';
import { python, runPython, shmExists } from '@shmbridge/testkit';

// Python's own form: smm = SharedMemoryManager(); smm.start(). Before the fix,
// `new SharedMemoryManager()` threw "Cannot read properties of undefined (reading 'address')".
describe('SharedMemoryManager: new + start(), as in Python', () => {
  it('starts with no options, serves TS and a CPython client, and unlinks everything at shutdown', async () => {
    const smm = new SharedMemoryManager();
    expect(() => smm.address).toThrow(expect.objectContaining({ code: 'ERR_SHM_MANAGER_STATE' }));
    expect(await smm.start()).toBe(smm);
    expect(typeof smm.address).toBe('string'); // a Unix socket path
    const shm = await smm.SharedMemory(64);
    const sl = await smm.ShareableList(['x', 1]);
    const r = await runPython(python(13), `
import sys
from multiprocessing.managers import SharedMemoryManager
smm = SharedMemoryManager(address=sys.argv[1], authkey=bytes.fromhex(sys.argv[2]))
smm.connect()
s = smm.SharedMemory(32)
print(s.name)
s.close()
`, { args: [smm.address as string, smm.authkey.toString('hex')] });
    const pyBlock = r.stdout.trim();
    expect((await smm.listSegments()).sort()).toEqual([shm.name, sl.shm.name, pyBlock].sort());
    shm.close();
    sl.close();
    await smm.shutdown();
    expect([shm.name, sl.shm.name, pyBlock].filter(shmExists)).toEqual([]);
  });

  it('refuses a second start, and start after shutdown, with ERR_SHM_MANAGER_STATE', async () => {
    const smm = new SharedMemoryManager();
    await smm.start();
    await expect(smm.start()).rejects.toMatchObject({ code: 'ERR_SHM_MANAGER_STATE', message: expect.stringMatching(/already started/) });
    await smm.shutdown();
    await expect(smm.start()).rejects.toMatchObject({ code: 'ERR_SHM_MANAGER_STATE', message: expect.stringMatching(/shut down/) });
  });

  it('shuts down through await using', async () => {
    let name: string;
    {
      await using smm = new SharedMemoryManager();
      await smm.start();
      name = (await smm.SharedMemory(16)).close().name;
      expect(shmExists(name)).toBe(true);
    }
    expect(shmExists(name)).toBe(false);
  });

  it('connect() without an address, or without the authkey, is a clear argument error', async () => {
    await expect(new SharedMemoryManager().connect()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"options\.address" argument must be a socket path or \[host, port\] to connect to \(or call start\(\)/) });
    await expect(new SharedMemoryManager({ address: ['127.0.0.1', 1] }).connect()).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringMatching(/"options\.authkey"/) });
  });
});
