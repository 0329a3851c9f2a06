import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { tableFromArrays, type Table } from 'apache-arrow';
import { SharedMemory, Tensor } from '@shmbridge/core';
import { attachTable, closeTable, shareTable } from '@shmbridge/arrow';
import { listShm, python, python3, shmExists } from '@shmbridge/testkit';
import { PythonError, PythonWorker } from '@shmbridge/worker';
import { startWorker } from './helpers/start.js';

describe('PythonWorker#call arrays and tables (python3: numpy, torch, pyarrow)', () => {
  let w: PythonWorker;
  beforeAll(async () => {
    w = await startWorker(python3(), 'arrays.py');
  });
  afterAll(async () => {
    await w.close();
  });

  it('hands a Tensor to numpy without a copy: a write in Python shows in Node', async () => {
    using t = Tensor.create({ dtype: 'float32', shape: [2, 3] });
    try {
      t.data.set([1, 2, 3, 4, 5, 6]);
      expect(await w.call('describe', [t])).toEqual({ type: 'ndarray', dtype: 'float32', shape: [2, 3], strides: [12, 4], values: [1, 2, 3, 4, 5, 6], writeable: true });
      await w.call('fill', [t, 7]);
      expect([...t.data]).toEqual([7, 7, 7, 7, 7, 7]);
      await w.call('keep', [t]);
      t.data[0] = -1; // Node writes; the array Python kept sees it on the next call
      expect((await w.call('read_kept'))[0]).toBe(-1);
    } finally {
      t.shm.unlink();
    }
  });

  it('keeps a Fortran-order tensor\'s layout', async () => {
    using t = Tensor.create({ dtype: 'int16', shape: [2, 3], order: 'F' });
    try {
      t.data.set([0, 3, 1, 4, 2, 5]); // column-major: [[0, 1, 2], [3, 4, 5]]
      const d = await w.call('describe', [t]);
      expect(d).toMatchObject({ shape: [2, 3], strides: [2, 4] });
      expect(await w.call('column', [t, 1])).toMatchObject({ shape: [2] });
    } finally {
      t.shm.unlink();
    }
  });

  it('copies a typed array into a block for the call (Python\'s writes stay there) and unlinks it after', async () => {
    const before = listShm();
    const xs = Float64Array.from([1.5, 2.5, 3]);
    expect(await w.call('describe', [xs])).toMatchObject({ type: 'ndarray', dtype: 'float64', shape: [3], values: [1.5, 2.5, 3] });
    await w.call('fill', [xs, 0]);
    expect([...xs]).toEqual([1.5, 2.5, 3]);
    for (const [arr, dtype] of [[new Int8Array([-1]), 'int8'], [new Uint16Array([1]), 'uint16'], [new Int32Array([1]), 'int32'], [new Uint32Array([1]), 'uint32'],
      [new Float32Array([1]), 'float32'], [new BigInt64Array([-5n]), 'int64'], [new BigUint64Array([5n]), 'uint64'], [new Uint8ClampedArray([200]), 'uint8']] as const) {
      expect((await w.call('describe', [arr])).dtype).toBe(dtype);
    }
    expect(listShm()).toEqual(before);
  });

  it('passes a typed array that is a view of any open block by name, zero-copy', async () => {
    const shm = SharedMemory.create(8 * 4); // never given to the worker itself
    try {
      const xs = shm.view(Float64Array);
      xs.fill(1);
      await w.call('fill', [xs.subarray(1, 3), 9]);
      expect([...xs]).toEqual([1, 9, 9, 1]);
      expect([...shm.view(Float64Array)]).toEqual([1, 9, 9, 1]);
    } finally {
      shm.close().unlink();
    }
  });

  it('passes a result Tensor (whose block has no name any more) back by copying it for the call', async () => {
    const before = listShm();
    const r: Tensor<'float64'> = await w.call('arange', [4]);
    try {
      expect(await w.call('total', [r])).toBe(6);
      expect(await w.call('describe', [await w.call('tail', [r])])).toMatchObject({ values: [1, 2, 3] });
      await w.call('fill', [r.data.subarray(1, 3), 9]);
      expect([...r.data]).toEqual([0, 1, 2, 3]); // a copy: Python's write stays in it
      expect(listShm()).toEqual(before);
    } finally {
      r.close();
    }
  });

  it('returns a new array as a Tensor in a block nobody else can reach (already unlinked)', async () => {
    const before = listShm();
    const r: Tensor<'float64'> = await w.call('arange', [5]);
    expect(r).toBeInstanceOf(Tensor);
    expect([...r.data]).toEqual([0, 1, 2, 3, 4]);
    expect(r.shape).toEqual([5]);
    expect(shmExists(r.shm.name)).toBe(false);
    expect(listShm()).toEqual(before);
    r.close();
  });

  it('returns every supported dtype and layout as numpy had it', async () => {
    const all: Tensor[] = await w.call('dtypes');
    expect(all.map((t) => t.dtype)).toEqual(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64']);
    expect(all.map((t) => [...t.data].map(Number))).toEqual(Array.from({ length: 10 }, () => [0, 1, 2]));
    const zeroD: Tensor = await w.call('make', ['zero_d']);
    expect([zeroD.shape, [...zeroD.data]]).toEqual([[], [2.5]]);
    const empty: Tensor = await w.call('make', ['empty']);
    expect([empty.shape, empty.dtype, empty.data.length]).toEqual([[0, 3], 'int32', 0]);
    const f: Tensor = await w.call('make', ['fortran']);
    expect([f.shape, f.strides, [...f.data]]).toEqual([[2, 3], [2, 4], [0, 3, 1, 4, 2, 5]]);
    const s: Tensor = await w.call('make', ['strided']);
    expect([s.shape, [...s.data]]).toEqual([[3, 2], [0, 2, 4, 6, 8, 10]]);
    const be: Tensor = await w.call('make', ['big_endian']);
    expect([be.descr, [...be.data]]).toEqual(['<i4', [0, 1, 2]]);
    const b: Tensor = await w.call('make', ['bool']);
    expect([b.dtype, [...b.data]]).toEqual(['bool', [1, 0, 1]]);
    expect(await w.call('make', ['scalar'])).toBe(1.5);
    expect(await w.call('make', ['int_scalar'])).toBe(2 ** 40);
    const nested = await w.call('make', ['nested']);
    expect([...nested.a.data]).toEqual([1, 1]);
    expect(nested.b[1]).toBe('text');
    for (const t of [...all, zeroD, empty, f, s, be, b, nested.a, nested.b[0]]) t.close();
  });

  it('refuses dtypes Node cannot read with a PythonError naming the dtype, and leaves no block', async () => {
    const before = listShm();
    await expect(w.call('make', ['complex'])).rejects.toMatchObject({ code: 'ERR_PYTHON_EXCEPTION', type: 'TypeError', message: expect.stringContaining('complex64') });
    await expect(w.call('make', ['strings'])).rejects.toMatchObject({ type: 'TypeError', message: expect.stringContaining('<U1') });
    expect(listShm()).toEqual(before);
  });

  it('returns a view of an input as a view of that same block (aliasing it)', async () => {
    using t = Tensor.create({ dtype: 'float64', shape: [4] });
    try {
      t.data.set([10, 11, 12, 13]);
      const v: Tensor<'float64'> = await w.call('tail', [t]);
      expect(v.shm.name).toBe(t.shm.name);
      expect(v.offset).toBe(t.offset + 8);
      expect([...v.data]).toEqual([11, 12, 13]);
      v.data[0] = -11; // through the returned view…
      expect(t.data[1]).toBe(-11); // …into the input
      v.close();
      const col: Tensor = await w.call('column', [Tensor.attach(t.shm.name), 0]).catch((e) => e);
      expect(col).toBeInstanceOf(PythonError); // 1-d input has no column 0: an ordinary Python error
    } finally {
      t.shm.unlink();
    }
  });

  it('returns a view of a typed-array copy as a view of that block, which Node then holds alone', async () => {
    const before = listShm();
    const v: Tensor<'int32'> = await w.call('tail', [Int32Array.from([1, 2, 3])]);
    expect([...v.data]).toEqual([2, 3]);
    expect(shmExists(v.shm.name)).toBe(false); // the call's copy was unlinked after the call; the view keeps it mapped
    expect(listShm()).toEqual(before);
    v.close();
  });

  it('copies a view with negative strides into a new block (Tensor strides are non-negative)', async () => {
    using t = Tensor.create({ dtype: 'int32', shape: [3] });
    try {
      t.data.set([1, 2, 3]);
      const r: Tensor = await w.call('reverse', [t]);
      expect(r.shm.name).not.toBe(t.shm.name);
      expect([...r.data]).toEqual([3, 2, 1]);
      r.close();
    } finally {
      t.shm.unlink();
    }
  });

  it('returns an array made with worker.zeros without a copy: a view of it shares its block', async () => {
    const [a, b]: [Tensor<'float32'>, Tensor<'float32'>] = await w.call('zeros_pair', [4]);
    expect([...a.data]).toEqual([0, 1, 2, 3]);
    expect([...b.data]).toEqual([1, 2, 3]);
    expect(b.shm.name).toBe(a.shm.name);
    expect(b.offset).toBe(a.offset + 4);
    a.data[1] = 42;
    expect(b.data[0]).toBe(42);
    a.close();
    b.close();
  });

  it('unlinks a worker.zeros block the call did not return, and makes plain arrays outside a call', async () => {
    const before = listShm();
    expect(await w.call('zeros_unreturned', [1000])).toBe(1000);
    expect(await w.call('zeros_outside')).toBe('ndarray');
    expect(listShm()).toEqual(before);
  });

  it('returns a view of a SharedMemory argument\'s memory as a view of that block', async () => {
    const shm = SharedMemory.create(16);
    try {
      shm.buf.set([0, 1, 2, 3, 4]);
      const v: Tensor = await w.call('shm_array', [shm, 5]);
      expect(v.shm.name).toBe(shm.name);
      expect(v.offset).toBe(1);
      expect([...v.data]).toEqual([1, 2, 3, 4]);
      v.close();
    } finally {
      shm.close().unlink();
    }
  });

  it('mixes arrays and values in one result', async () => {
    using t = Tensor.create({ dtype: 'int64', shape: [2] });
    try {
      t.data.set([3n, 4n]);
      const r = await w.call('arrays_and_values', [t]);
      expect([...r.doubled.data]).toEqual([6n, 8n]);
      expect([r.n, r.label]).toEqual([2, 'ok']);
      r.doubled.close();
    } finally {
      t.shm.unlink();
    }
  });

  it('claims and unlinks the result blocks of a call it stopped waiting for', async () => {
    const before = listShm();
    await expect(w.call('late_zeros', [0.3], {}, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_WORKER_TIMEOUT' });
    expect(await w.call('first', [Float32Array.from([5])])).toBe(5); // answered after the late result arrived
    expect(listShm()).toEqual(before);
  });

  it('leaves /dev/shm as it was after 1,000 calls returning new arrays', async () => {
    const before = listShm();
    using x = Tensor.create({ dtype: 'float32', shape: [256] });
    try {
      x.data.fill(1);
      let sum = 0;
      for (let i = 0; i < 1000; i++) {
        const out: Tensor<'float32'> = await w.call('scaled', [x, i]);
        sum += out.data[255]!;
        if (i % 2) out.close(); // half closed now, half left to the GC: neither leaves a name behind
      }
      expect(sum).toBe((999 * 1000) / 2);
    } finally {
      x.shm.unlink();
    }
    expect(listShm()).toEqual(before);
  });

  it('passes a heap Table by copying it into a block for the call, and an attached one by name', async () => {
    const before = listShm();
    const heap = tableFromArrays({ x: Float64Array.from([1, 2, 3.5]), y: Int32Array.from([4, 5, 6]) });
    expect(await w.call('table_info', [heap])).toEqual({ names: ['x', 'y'], rows: 3, sum: 6.5 });
    expect(listShm()).toEqual(before);
    const { shm } = shareTable(heap);
    try {
      const attached = attachTable(shm.name);
      expect(await w.call('table_info', [attached])).toEqual({ names: ['x', 'y'], rows: 3, sum: 6.5 });
      closeTable(attached);
    } finally {
      shm.close().unlink();
    }
  });

  it('returns pyarrow Tables and RecordBatches as apache-arrow Tables over a block Node owns', async () => {
    const before = listShm();
    const t: Table = await w.call('table_result', [4]);
    expect(t.numRows).toBe(4);
    expect(t.getChild('i')!.toArray()).toEqual(Int32Array.from([0, 1, 2, 3]));
    expect(t.getChild('s')!.get(3)).toBe('3');
    const b: Table = await w.call('batch_result');
    expect([...b.getChild('v')!]).toEqual([1.5, 2.5]);
    expect(listShm()).toEqual(before);
    closeTable(t);
    closeTable(b);
  });
});

describe("PythonWorker arrays: 'torch' (python3)", () => {
  let w: PythonWorker;
  beforeAll(async () => {
    w = await startWorker(python3(), 'arrays.py', { arrays: 'torch' });
  });
  afterAll(async () => {
    await w.close();
  });

  it('hands tensors to Python as torch.from_numpy views: an in-place add shows in Node', async () => {
    using t = Tensor.create({ dtype: 'float32', shape: [2, 2] });
    try {
      t.data.set([1, 2, 3, 4]);
      expect(await w.call('torch_info', [t])).toEqual({ type: 'Tensor', dtype: 'torch.float32', shape: [2, 2] });
      expect([...t.data]).toEqual([2, 3, 4, 5]);
    } finally {
      t.shm.unlink();
    }
  });

  it('returns CPU torch tensors (also ones that require grad) as Tensors, and refuses dtypes numpy lacks', async () => {
    const r: Tensor<'float32'> = await w.call('torch_result', [6]);
    expect([r.shape, [...r.data]]).toEqual([[2, 3], [0, 1, 2, 3, 4, 5]]);
    const g: Tensor<'float32'> = await w.call('torch_grad');
    expect([...g.data]).toEqual([2, 2, 2]);
    await expect(w.call('torch_bfloat16')).rejects.toMatchObject({ type: 'TypeError', message: expect.stringContaining('bfloat16') });
    r.close();
    g.close();
  });

  it('returns a torch view of an input as a view of the input\'s block', async () => {
    using t = Tensor.create({ dtype: 'float32', shape: [3] });
    try {
      const v: Tensor = await w.call('tail', [t]);
      expect([v.shm.name, v.offset]).toEqual([t.shm.name, t.offset + 4]);
      v.close();
    } finally {
      t.shm.unlink();
    }
  });
});

describe.each([python(8), python(13)].map((p) => [p.label, p] as const))('PythonWorker arrays without numpy, %s', (_label, interp) => {
  it('fails a call that needs numpy with a clear PythonError (ImportError), and unlinks the call\'s copies', async () => {
    await using w = await startWorker(interp, 'plain.py');
    const before = listShm();
    using t = Tensor.create({ dtype: 'float32', shape: [2] });
    try {
      for (const arg of [t, Float32Array.from([1, 2])]) {
        const err = (await w.call('identity', [arg]).catch((e: unknown) => e)) as PythonError;
        expect(err).toBeInstanceOf(PythonError);
        expect(['ImportError', 'ModuleNotFoundError']).toContain(err.type);
        expect(err.message).toContain('numpy');
      }
      expect(await w.call('identity', ['still serving'])).toBe('still serving');
    } finally {
      t.shm.unlink();
    }
    expect(listShm()).toEqual(before);
  });
});
