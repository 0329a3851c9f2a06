"""Attaching without Python's resource tracker.

CPython registers every SharedMemory it constructs with its resource tracker,
attached ones included, and the tracker unlinks them when the process exits
(bpo-39959): a Python worker that merely attached to Node's block would
delete it. 3.13 added ``track=False``; earlier versions have no switch, and
unregistering afterwards means talking to (and maybe starting) the tracker
process. So the block is opened here the way SharedMemory.__init__ opens it,
minus the registration, on every version alike.
"""
import mmap
import os
import sys
from multiprocessing import shared_memory

import _posixshmem


class UntrackedSharedMemory(shared_memory.SharedMemory):
    """A SharedMemory attached by name that no resource tracker knows about.

    It behaves like ``SharedMemory(name)``: ``buf``, ``name``, ``size``,
    ``close()``. ``unlink()`` removes the block without telling a tracker
    (there is nothing registered to forget).
    """

    _track = False

    def __init__(self, name):  # noqa: D107 - see class docstring
        if not isinstance(name, str) or not name or "/" in name or "\0" in name:
            raise ValueError("shared memory name must be a non-empty str without '/' or NUL: %r" % (name,))
        self._name = "/" + name
        self._fd = _posixshmem.shm_open(self._name, os.O_RDWR, mode=0o600)
        try:
            size = os.fstat(self._fd).st_size
            if size == 0:
                # mmap refuses empty files; the creator may not have sized it yet.
                raise ValueError("cannot attach to an empty (size 0) block %r" % (name,))
            self._mmap = mmap.mmap(self._fd, size)
        except BaseException:
            # Unlike SharedMemory.__init__, never unlink a block we did not create.
            os.close(self._fd)
            self._fd = -1
            raise
        self._size = size
        self._buf = memoryview(self._mmap)

    def unlink(self):
        """Remove the block's name (shm_unlink); no tracker is involved."""
        _posixshmem.shm_unlink(self._name)

    def __reduce__(self):
        return (attach, (self.name,))

    def __repr__(self):
        return "UntrackedSharedMemory(%r, size=%d)" % (self.name, self.size)


def attach(name):
    """Attach to the block ``name`` (no leading slash), untracked.

    Returns a ``multiprocessing.shared_memory.SharedMemory`` (subclass) that
    Python's resource tracker never unlinks, on any Python >= 3.8.
    Raises FileNotFoundError if there is no such block.
    """
    return UntrackedSharedMemory(name)


def map_block(name):
    """Map the block ``name`` read-write and return the ``mmap`` object.

    Arrays built over it keep it (and so the mapping) alive; it is unmapped
    when the last of them is collected. No SharedMemory object is involved, so
    nothing tries to close a mapping arrays still use (BufferError).
    """
    if not isinstance(name, str) or not name or "/" in name or "\0" in name:
        raise ValueError("shared memory name must be a non-empty str without '/' or NUL: %r" % (name,))
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            raise ValueError("cannot attach to an empty (size 0) block %r" % (name,))
        return mmap.mmap(fd, size)
    finally:
        os.close(fd)


__all__ = ["UntrackedSharedMemory", "attach", "create", "map_block"]
if sys.version_info < (3, 8):  # pragma: no cover
    raise ImportError("shmbridge needs Python 3.8 or later (multiprocessing.shared_memory)")


def create(size, name=None, track=True):
    """Create a block (``SharedMemory(name, create=True, size=size)``).

    With ``track=False`` this process's resource tracker will not unlink it at
    exit: ownership goes to whoever reads the handle (e.g. Node, which
    unlinks it when done).
    """
    if track:
        return shared_memory.SharedMemory(name=name, create=True, size=size)
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, create=True, size=size, track=False)
    from multiprocessing import resource_tracker

    shm = shared_memory.SharedMemory(name=name, create=True, size=size)
    resource_tracker.unregister(shm._name, "shared_memory")
    shm._track = False  # unlink() then skips the tracker too (3.8-3.12 check it nowhere, harmless)
    return shm
