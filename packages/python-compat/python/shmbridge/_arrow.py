"""Arrow tables in shared memory, zero-copy with pyarrow.

A table block holds one Arrow IPC stream from its first byte (what Node's
``shareTable`` writes), so ``pa.ipc.open_stream(pa.py_buffer(block))``
reads it in place.
"""
from ._attach import create, map_block
from ._optional import need


def _name(name_or_handle):
    if isinstance(name_or_handle, str) and not name_or_handle.lstrip().startswith("{"):
        return name_or_handle
    import json

    handle = json.loads(name_or_handle) if isinstance(name_or_handle, (str, bytes)) else name_or_handle
    if not isinstance(handle, dict) or not isinstance(handle.get("name"), str) or handle.get("kind", "arrow") != "arrow":
        raise ValueError("a table handle is {'name': str, 'kind': 'arrow'}, got %r" % (handle,))
    return handle["name"]


def table(name_or_handle):
    """A pyarrow Table over a table block, zero-copy; it keeps the block mapped while it lives."""
    pa = need("pyarrow", "table")
    mm = map_block(_name(name_or_handle))
    return pa.ipc.open_stream(pa.py_buffer(mm)).read_all()


def share_table(tbl, name=None, track=True):
    """Write ``tbl`` (a pyarrow Table) into a new block as one IPC stream; return ``(shm, handle)``.

    The block is exactly the stream's size and is written in place (no
    intermediate copy). This process created it: keep ``shm`` and unlink it
    when readers are done, or pass ``track=False`` to hand it to the reader
    (Node), which then unlinks it. Node reads it with ``attachTable(handle)``.
    """
    pa = need("pyarrow", "share_table")
    if not isinstance(tbl, pa.Table):
        raise TypeError("share_table needs a pyarrow.Table, got %s" % type(tbl).__name__)
    shm = create(stream_size(tbl), name, track)
    try:
        write_stream(tbl, shm.buf)
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    return shm, {"name": shm.name, "kind": "arrow"}


def stream_size(tbl):
    """Bytes of ``tbl`` as one Arrow IPC stream (pyarrow computes it without writing)."""
    pa = need("pyarrow", "share_table")
    sizer = pa.MockOutputStream()
    with pa.ipc.new_stream(sizer, tbl.schema) as w:
        w.write_table(tbl)
    return sizer.size()


def write_stream(tbl, buf):
    """Write ``tbl`` as one Arrow IPC stream into ``buf`` (exactly ``stream_size(tbl)`` bytes), in place."""
    pa = need("pyarrow", "share_table")
    sink = pa.FixedSizeBufferWriter(pa.py_buffer(buf))
    with pa.ipc.new_stream(sink, tbl.schema) as w:
        w.write_table(tbl)
    sink.close()
    del sink  # release the export of buf, so the block can be closed later
