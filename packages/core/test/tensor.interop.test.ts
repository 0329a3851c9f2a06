import { describe, expect, it } from '@jest/globals';
import { SharedMemory, Tensor, type DTypeName } from '@shmbridge/core';
import { python3, runPython, startPython } from '@shmbridge/testkit';

const DTYPES: DTypeName[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool'];

function fill(t: Tensor): void {
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    const v = (i * 7) % 5;
    if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(v);
    else data[i] = t.dtype === 'bool' ? v % 2 : v;
  }
}

describe('Tensor with numpy and torch (python3)', () => {
  it('numpy reads every dtype TS wrote, byte-identical to np.save, and its writes show up in TS', async () => {
    const tensors = DTYPES.map((dtype) => {
      const t = Tensor.create({ dtype, shape: [3, 4] });
      fill(t);
      return t;
    });
    try {
      const r = await runPython(python3(), `
import io, json, sys, numpy as np, shmbridge
out = []
for name in sys.argv[1:]:
    a = shmbridge.ndarray(name)
    buf = io.BytesIO(); np.save(buf, np.array(a))
    shm = shmbridge.attach(name)
    same = buf.getvalue() == bytes(shm.buf)
    shm.close()
    out.append([a.dtype.name, list(a.shape), a.ravel().astype(int).tolist(), same])
    a[2, 3] = 1
print(json.dumps(out))
`, { args: tensors.map((t) => t.shm.name) });
      const seen = JSON.parse(r.stdout) as [string, number[], number[], boolean][];
      expect(seen).toHaveLength(DTYPES.length);
      seen.forEach(([dtype, shape, values, identical], i) => {
        const t = tensors[i]!;
        expect({ dtype, shape, identical }).toEqual({ dtype: t.dtype, shape: [3, 4], identical: true });
        const written = Array.from({ length: 12 }, (_, k) => ((k * 7) % 5) % (t.dtype === 'bool' ? 2 : 5));
        expect(values).toEqual(written);
        expect(Number(t.data[t.indexOf(2, 3)])).toBe(1);
      });
    } finally {
      for (const t of tensors) t.close().shm.unlink();
    }
  });

  it('TS attaches every dtype numpy shared (shmbridge.share), C and Fortran order', async () => {
    const p = startPython(python3(), `
import json, sys, numpy as np, shmbridge
dtypes = ${JSON.stringify(DTYPES)}
made = []
for d in dtypes:
    made.append(shmbridge.share((np.arange(6) % 4).astype(d).reshape(2, 3)))
made.append(shmbridge.share(np.asfortranarray(np.arange(6, dtype=np.float64).reshape(2, 3))))
print(json.dumps([[shm.name, h] for shm, h in made]), flush=True)
sys.stdin.readline()
for shm, _ in made:
    shm.close(); shm.unlink()
`);
    const made = JSON.parse(await p.firstLine()) as [string, any][];
    try {
      made.slice(0, DTYPES.length).forEach(([name, handle], i) => {
        const t = Tensor.attach(name);
        expect([t.dtype, t.shape, t.handle]).toEqual([DTYPES[i], [2, 3], handle]);
        expect([...t.data].map(Number)).toEqual(DTYPES[i] === 'bool' ? [0, 1, 1, 1, 0, 1] : [0, 1, 2, 3, 0, 1]);
        t.close();
      });
      const [fname] = made[DTYPES.length]!;
      const f = Tensor.attach(fname);
      expect(f.strides).toEqual([8, 16]);
      expect(f.data[f.indexOf(1, 2)]).toBe(5); // element [1, 2] of arange(6).reshape(2, 3)
      f.close();
    } finally {
      p.send('\n');
      await p.done;
    }
  });

  it('torch sees a TS tensor by name, zero-copy both ways', async () => {
    const t = Tensor.create({ dtype: 'float32', shape: [2, 2] });
    try {
      t.data.set([1, 2, 3, 4]);
      const r = await runPython(python3(), `
import sys, shmbridge
x = shmbridge.tensor(sys.argv[1])
print(x.dtype, x.sum().item())
x.mul_(10)
`, { args: [t.shm.name] });
      expect(r.stdout.trim()).toBe('torch.float32 10.0');
      expect([...t.data]).toEqual([10, 20, 30, 40]);
    } finally {
      t.close().shm.unlink();
    }
  });

  it('attaches the headerless NumPy example of the Python docs with a handle', async () => {
    const p = startPython(python3(), `
import numpy as np, sys
from multiprocessing import shared_memory
a = np.array([1, 1, 2, 3, 5, 8])
shm = shared_memory.SharedMemory(create=True, size=a.nbytes)
b = np.ndarray(a.shape, dtype=a.dtype, buffer=shm.buf)
b[:] = a[:]
print(shm.name, flush=True)
sys.stdin.readline()
print(b.tolist())
del b
shm.close(); shm.unlink()
`);
    const name = await p.firstLine();
    expect(() => Tensor.attach(name)).toThrow(/no \\x93NUMPY magic.*handle/);
    const t = Tensor.attach({ name, dtype: '<i8', shape: [6], offset: 0, strides: [8] });
    expect([...t.data]).toEqual([1n, 1n, 2n, 3n, 5n, 8n]);
    (t.data as BigInt64Array)[5] = 888n;
    const every2nd = Tensor.attach({ name, dtype: '<i8', shape: [3], offset: 8, strides: [16] });
    expect([0, 1, 2].map((i) => every2nd.data[every2nd.indexOf(i)])).toEqual([1n, 3n, 888n]);
    every2nd.close();
    t.close();
    p.send('\n');
    expect((await p.done).stdout.trim().split('\n')[1]).toBe('[1, 1, 2, 3, 5, 888]');
  });
});

describe('Tensor refusals', () => {
  it.each([
    [{ dtype: '>f4', shape: [2] }, 'big-endian'],
    [{ dtype: 'complex64', shape: [2] }, 'not a supported dtype'],
    [{ dtype: 'float16', shape: [2] }, 'Float16Array'],
    [{ dtype: 'float32', shape: [-1] }, 'out of range'],
    [{ dtype: 'float32', shape: [2 ** 40, 2 ** 40] }, 'safe integer'],
    [{ dtype: 'float32', shape: [2], order: 'K' }, "must be one of 'C', 'F'"],
  ])('create %j: %s', (options, message) => {
    expect(() => Tensor.create(options as never)).toThrow(message);
  });

  it('validates a handle from outside before any syscall', () => {
    for (const [handle, message] of [
      [{ dtype: '<f4', shape: [1] }, 'Invalid tensor handle at name'],
      [{ name: 'x', dtype: '<f4', shape: [1.5] }, 'Invalid tensor handle at shape.0'],
      [{ name: 'x', dtype: '<f4', shape: [1], offset: -8 }, 'at offset'],
      [{ name: 'a/b', dtype: '<f4', shape: [1] }, "must not contain '/'"],
      [{ name: 'x', dtype: '>f8', shape: [1] }, 'big-endian'],
      [{ name: 'x', dtype: '<f4', shape: [2, 2], strides: [4] }, 'one stride per dimension'],
    ] as const) {
      // 'x' does not exist: reaching shm_open would say ENOENT instead.
      expect(() => Tensor.attach(handle as never)).toThrow(message);
    }
  });

  it('refuses layouts that do not fit the block or a typed array, naming the block', () => {
    const shm = SharedMemory.create(64);
    try {
      for (const [handle, message] of [
        [{ dtype: '<f8', shape: [9] }, 'needs 72 bytes but the block has 64'],
        [{ dtype: '<f8', shape: [2], offset: 4 }, 'not a multiple of the 8-byte item size'],
        [{ dtype: '<f4', shape: [2], strides: [6] }, 'stride 6'],
        [{ dtype: '<f4', shape: [2], strides: [-4] }, 'stride -4'],
      ] as const) {
        expect(() => Tensor.attach({ name: shm.name, ...handle } as never)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT', message: expect.stringContaining(message) }));
      }
      expect(() => Tensor.attach(shm.name)).toThrow(expect.objectContaining({ code: 'ERR_SHM_CORRUPT' }));
    } finally {
      shm.close().unlink();
    }
  });

  it('closes (data then reads zeros, never the block); inspect shows dtype and shape', () => {
    const t = Tensor.create({ dtype: 'uint8', shape: [4], name: `shmbridge_t_${process.pid}` });
    const data = t.data;
    expect(String((t as any)[Symbol.for('nodejs.util.inspect.custom')]())).toBe(`Tensor(uint8, shape=[4], name='shmbridge_t_${process.pid}')`);
    data.fill(5);
    t.close();
    expect([...data]).toEqual([0, 0, 0, 0]);
    expect(() => t.data).toThrow(expect.objectContaining({ code: 'ERR_SHM_CLOSED' }));
    t.shm.unlink();
  });
});
