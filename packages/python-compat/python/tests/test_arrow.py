"""shmbridge.table / share_table: pyarrow tables over blocks, zero-copy."""
import os

import pyarrow as pa
import pytest

import shmbridge


@pytest.fixture
def shared(cleanup):
    def make(tbl):
        shm, handle = shmbridge.share_table(tbl)
        cleanup.append(shm)
        return shm, handle

    return make


def test_share_table_round_trip_zero_copy(shared):
    t = pa.table({"x": pa.array([1.5, 2.5, None]), "s": ["a", None, "c"]})
    shm, handle = shared(t)
    assert handle == {"name": shm.name, "kind": "arrow"}
    back = shmbridge.table(handle)
    assert back.equals(t)
    # zero-copy: a write through another mapping of the block shows in the table
    import struct

    at = bytes(shm.buf).index(struct.pack("<d", 2.5))
    shm.buf[at : at + 8] = struct.pack("<d", 9.5)
    assert back.column("x").to_pylist() == [1.5, 9.5, None]
    del back


def test_block_is_exactly_the_stream(shared):
    t = pa.table({"i": pa.array(range(1000), pa.int32())})
    shm, _ = shared(t)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t)
    assert shm.size == sink.getvalue().size


def test_table_errors(block):
    with pytest.raises(ValueError):
        shmbridge.table({"name": "x", "kind": "tensor"})
    shm = block(64)
    with pytest.raises(pa.ArrowInvalid):
        shmbridge.table(shm.name)


def test_share_table_refuses_what_is_not_a_table():
    before = set(os.listdir("/dev/shm"))
    for bad in (123, None, {"x": [1]}, pa.array([1, 2])):
        with pytest.raises(TypeError, match="needs a pyarrow.Table"):
            shmbridge.share_table(bad)
    assert set(os.listdir("/dev/shm")) == before
