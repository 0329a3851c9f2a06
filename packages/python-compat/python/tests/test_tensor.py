"""shmbridge.ndarray / tensor / share: zero-copy numpy and torch over blocks."""
import gc
import io
import json
import sys

import numpy as np
import pytest

from conftest import exists, run_python

import shmbridge

DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "bool"]


@pytest.fixture
def shared(cleanup):
    def make(array):
        shm, handle = shmbridge.share(array)
        cleanup.append(shm)
        return shm, handle

    return make


@pytest.mark.parametrize("dtype", DTYPES)
def test_share_writes_what_np_save_writes(shared, dtype):
    a = (np.arange(12) % 5).astype(dtype).reshape(3, 4)
    shm, handle = shared(a)
    expected = io.BytesIO()
    np.save(expected, a)
    assert bytes(shm.buf) == expected.getvalue()
    assert handle == {"name": shm.name, "dtype": a.dtype.str, "shape": [3, 4], "offset": 128, "strides": list(a.strides)}


def test_fortran_order_is_kept(shared):
    a = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3))
    shm, handle = shared(a)
    b = shmbridge.ndarray(shm.name)
    assert b.flags.f_contiguous and not b.flags.c_contiguous
    assert (b == a).all()
    assert handle["strides"] == [4, 8]


def test_ndarray_is_zero_copy_both_ways(shared):
    shm, handle = shared(np.zeros(4, dtype=np.float64))
    by_name = shmbridge.ndarray(shm.name)
    by_handle = shmbridge.ndarray(handle)
    by_json = shmbridge.ndarray(json.dumps(handle))
    by_name[1] = 2.5
    assert by_handle[1] == 2.5 and by_json[1] == 2.5
    assert np.frombuffer(shm.buf, dtype=np.float64, offset=handle["offset"])[1] == 2.5


def test_tensor_is_zero_copy(shared):
    import torch  # installed by .ci/run; missing torch fails this test
    shm, _ = shared(np.arange(6, dtype=np.float32).reshape(2, 3))
    t = shmbridge.tensor(shm.name)
    t[1, 2] = 100
    assert shmbridge.ndarray(shm.name)[1, 2] == 100
    assert t.dtype == torch.float32 and tuple(t.shape) == (2, 3)


def test_headerless_block_needs_a_handle(block):
    # The NumPy example of Python's docs: raw data, no header.
    a = np.array([1, 1, 2, 3, 5, 8])
    shm = block(a.nbytes)
    np.ndarray(a.shape, dtype=a.dtype, buffer=shm.buf)[:] = a
    with pytest.raises(ValueError, match="no .npy header"):
        shmbridge.ndarray(shm.name)
    b = shmbridge.ndarray({"name": shm.name, "dtype": "<i8", "shape": [6]})
    assert b.tolist() == [1, 1, 2, 3, 5, 8]
    strided = shmbridge.ndarray({"name": shm.name, "dtype": "<i8", "shape": [3], "offset": 8, "strides": [16]})
    assert strided.tolist() == [1, 3, 8]


@pytest.mark.parametrize(
    "handle, message",
    [
        ({"dtype": "<f4", "shape": [1]}, "name"),
        ({"name": "x", "dtype": 4, "shape": [1]}, "dtype"),
        ({"name": "x", "dtype": "<f4", "shape": [-1]}, "shape"),
        ({"name": "x", "dtype": "<f4", "shape": [1], "offset": True}, "offset"),
        ({"name": "x", "dtype": "<f4", "shape": [2, 2], "strides": [4]}, "strides"),
        ("{not json", "JSON"),
        ([1, 2], "dict"),
    ],
)
def test_bad_handles_are_refused_before_anything_opens(handle, message):
    with pytest.raises(shmbridge.HandleError, match=message):
        shmbridge.ndarray(handle)


def test_a_name_that_does_not_exist_is_file_not_found():
    with pytest.raises(FileNotFoundError):
        shmbridge.ndarray("shmbridge_no_such_tensor")


def test_handle_past_the_block_is_refused(block):
    shm = block(16)
    with pytest.raises((ValueError, TypeError)):
        shmbridge.ndarray({"name": shm.name, "dtype": "<f8", "shape": [3]})


def test_array_keeps_the_mapping_alive_and_exits_cleanly(shared):
    shm, _ = shared(np.arange(3, dtype=np.int16))
    # In a fresh interpreter: drop every reference but the array, collect, use it, exit.
    r = run_python(sys.executable, """
import gc, shmbridge
a = shmbridge.ndarray(%r)
gc.collect()
a[0] = 9
print(a.tolist())
""" % shm.name)
    assert r.stdout.strip() == "[9, 1, 2]"
    assert r.stderr == ""  # no BufferError, no resource tracker warning
    assert exists(shm.name)


def test_share_refuses_nothing_numpy_can_hold_and_converts_big_endian(shared):
    a = np.arange(4, dtype=">i4")
    shm, handle = shared(a)
    assert handle["dtype"] == "<i4"
    assert shmbridge.ndarray(shm.name).tolist() == [0, 1, 2, 3]
    gc.collect()
