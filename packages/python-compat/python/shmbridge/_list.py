"""Attaching to a ShareableList without Python's resource tracker.

``ShareableList(name=...)`` builds its ``SharedMemory(name)`` internally, so
on every version up to 3.13 the block gets registered and is unlinked when
this process exits (bpo-39959). This does what its attach branch does
(read the count and the offsets — per-item sizes on 3.8) over
``shmbridge.attach(name)``.
"""
import struct
import sys
from multiprocessing import shared_memory

from ._attach import attach


def shareable_list(name):
    """Attach to the ShareableList in block ``name``; never unlinked by Python's tracker."""
    sl = shared_memory.ShareableList.__new__(shared_memory.ShareableList)
    sl.shm = attach(name)
    try:
        sl._list_len = len(sl)
        words = struct.unpack_from(sl._format_size_metainfo, sl.shm.buf, 8)
        if sys.version_info >= (3, 9):
            sl._allocated_offsets = list(words)
        else:
            sl._allocated_bytes = words
    except BaseException:
        sl.shm.close()
        raise
    return sl
