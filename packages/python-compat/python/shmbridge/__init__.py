"""shmbridge: attach to shared memory blocks made by Node.js (or anyone) by name.

Pure Python (3.8+), standard library only at import; numpy, torch and
pyarrow are imported by the functions that need them.

- ``attach(name)``: a ``multiprocessing.shared_memory.SharedMemory`` that
  Python's resource tracker never unlinks (any Python >= 3.8).
- ``shareable_list(name)``: the same for a ``ShareableList``.
- ``ndarray(name_or_handle)``: a numpy array over a tensor block, zero-copy.
- ``tensor(name_or_handle)``: a torch tensor over a tensor block, zero-copy.
- ``share(array)``: a new block holding ``array`` in the ``.npy`` format
  that Node's ``Tensor.attach(name)`` reads; returns ``(shm, handle)``.
- ``table(name_or_handle)``: a pyarrow Table over an Arrow block, zero-copy.
- ``share_table(table)``: a new block holding ``table`` as an Arrow IPC
  stream that Node's ``attachTable(name)`` reads; returns ``(shm, handle)``.

Handles are the JSON objects Node's shmbridge reads and writes, as dicts or
JSON strings: ``{"name", "dtype", "shape", "offset", "strides"}``.
"""
from ._arrow import share_table, table
from ._attach import UntrackedSharedMemory, attach
from ._handles import HandleError, parse_handle
from ._list import shareable_list
from ._tensor import ndarray, share, tensor

__all__ = ["attach", "shareable_list", "ndarray", "tensor", "share", "table", "share_table", "parse_handle", "HandleError", "UntrackedSharedMemory"]
__version__ = "0.1.0"
