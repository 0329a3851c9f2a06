import { beforeAll, describe, expect, it } from '@jest/globals';
import { SharedMemory } from '@shmbridge/core';
import { python, python3, runPython, shmExists, startPython, type Python } from '@shmbridge/testkit';

// Python-side attach that CPython's resource tracker will not unlink at exit:
// 3.13 has track=False; before it, attaching registers the block (bpo-39959),
// so it is unregistered by hand. The shmbridge Python helper does the same.
const ATTACH = `
import sys
from multiprocessing import shared_memory, resource_tracker
def attach(name):
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    shm = shared_memory.SharedMemory(name)
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm
`;

describe.each([[13], [8]])('interop with CPython 3.%i', (minor) => {
  let py: Python;
  beforeAll(() => {
    py = python(minor); // fails every test below if this CPython is missing
  });

  it('CPython attaches a TS block by name, reads it and writes back', async () => {
    const shm = SharedMemory.create(4096);
    try {
      shm.buf.write('hello from node', 0, 'utf8');
      shm.view(Float64Array, { offset: 64, length: 1 })[0] = 2.5;
      const r = await runPython(py, `${ATTACH}
import struct
shm = attach(${JSON.stringify(shm.name)})
print(shm.name, shm.size, bytes(shm.buf[:15]).decode(), struct.unpack_from('<d', shm.buf, 64)[0])
shm.buf[100:116] = b'hello from pyth' + bytes([sys.version_info[1]])
shm.close()
`);
      expect(r.stdout.trim()).toBe(`${shm.name} 4096 hello from node 2.5`);
      expect(shm.buf.toString('utf8', 100, 115)).toBe('hello from pyth');
      expect(shm.buf[115]).toBe(minor);
      expect(shmExists(shm.name)).toBe(true); // Python's exit did not unlink it
    } finally {
      shm.close().unlink();
    }
  });

  it('TS attaches a block CPython created (with a generated psm_ name), and CPython unlinks it', async () => {
    const child = startPython(py, `
from multiprocessing import shared_memory
import sys
shm = shared_memory.SharedMemory(create=True, size=10)
shm.buf[:5] = b'howdy'
print(shm.name, shm.size, flush=True)
sys.stdin.readline()
print(bytes(shm.buf[5:10]))
shm.close(); shm.unlink()
`);
    const [name, sizeText] = (await child.firstLine()).split(' ') as [string, string];
    const size = Number(sizeText);
    expect(name).toMatch(/^psm_[0-9a-f]{8}$/);
    const shm = SharedMemory.attach(name);
    expect(shm.size).toBe(size);
    expect(shm.buf.toString('latin1', 0, 5)).toBe('howdy');
    shm.buf.write('WORLD', 5, 'latin1');
    shm.close();
    child.send('\n');
    const r = await child.done;
    expect(r.stdout.trim().split('\n')[1]).toBe("b'WORLD'");
    expect(shmExists(name)).toBe(false);
  });
});

describe('the numpy example of the CPython docs', () => {
  it('TS attaches and reads the int64 array numpy wrote into the block', async () => {
    const child = startPython(python3(), `
import numpy as np, sys
from multiprocessing import shared_memory
a = np.array([1, 1, 2, 3, 5, 8])
shm = shared_memory.SharedMemory(create=True, size=a.nbytes)
b = np.ndarray(a.shape, dtype=a.dtype, buffer=shm.buf)
b[:] = a[:]
print(shm.name, a.dtype.str, flush=True)
sys.stdin.readline()
print(b.tolist())
del b
shm.close(); shm.unlink()
`);
    const [name, dtype] = (await child.firstLine()).split(' ');
    expect(dtype).toBe('<i8');
    const shm = SharedMemory.attach(name!);
    const xs = shm.view(BigInt64Array);
    expect([...xs]).toEqual([1n, 1n, 2n, 3n, 5n, 8n]);
    xs[5] = 888n; // as the docs' second process does
    shm.close();
    child.send('\n');
    expect((await child.done).stdout.trim().split('\n')[1]).toBe('[1, 1, 2, 3, 5, 888]');
  });
});
