"""Arguments and results of worker calls: what crosses as a value, what by name.

Values travel as ``marshal`` (format version 2: no back-references, every
str as UTF-8), which the C implementation in every CPython reads and writes
in about a microsecond for a small call. Blocks travel by name: a value
holds the tuple ``(Ellipsis, i)`` where the object goes, and ``refs[i]``
describes it. ``Ellipsis`` has no JavaScript counterpart, so no plain value
is ever mistaken for a reference.

Node -> Python refs (``resolve``)::

    ("tensor", name, dtype, shape, offset, strides)   -> numpy.ndarray over the block (torch.from_numpy with arrays="torch")
    ("table", name)                                    -> pyarrow.Table over the block
    ("list", name)                                     -> ShareableList, untracked
    ("shm", name)                                      -> SharedMemory, untracked
    ("bytes", name, size)                              -> bytes (large Buffers come in a block Node unlinks after the call)

Python -> Node refs (``Results.convert``)::

    ("tensor", name, dtype, shape, offset, strides, owned)
    ("table", name, owned)
    ("bytes", name, size, owned)
    ("shm", name) / ("list", name)

``owned`` blocks were created here for the result: Node attaches and unlinks
them at once, then says so (a RELEASE frame). Until then this process keeps
them registered with Python's resource tracker, so they are unlinked even if
this process is SIGKILLed; ones Node never claims are unlinked at exit.
"""
import mmap
import os
import sys
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import ShareableList, SharedMemory

import _posixshmem

from ._arrow import stream_size, table, write_stream
from ._attach import attach, map_block
from ._list import shareable_list
from ._optional import need
from ._tensor import _npy_header, npy_layout, write_npy

#: Bytes values up to this size travel inside the frame; larger ones in a block.
INLINE_BYTES = 1 << 20

_SCALARS = frozenset((type(None), bool, int, float, str))
_CREATE = os.O_CREAT | os.O_EXCL | os.O_RDWR
# The dtypes Node's Tensor reads (core/src/tensor/dtypes.ts), as numpy spells them.
_DTYPES = frozenset(("|i1", "|u1", "|b1", "<i2", "<u2", "<f2", "<i4", "<u4", "<f4", "<i8", "<u8", "<f8"))


class ResultBlocks:
    """Blocks this worker created for results, until Node has claimed them.

    Every name is registered with Python's resource tracker (a separate
    process that unlinks what is still registered when this one dies, even by
    SIGKILL) *before* its block exists, so a crash at any point leaves the
    tracker a name to try, never a block nobody knows about.

    ``resource_tracker.register``/``unregister`` cost two pipe writes each
    (a liveness PROBE, then the line), and every write wakes the tracker:
    ~80 us per result here. So lines go straight to the tracker's pipe
    (``resource_tracker.getfd()``, the line format every CPython 3.8-3.13
    reads), and names are recycled: a name Node has released (its block
    attached and unlinked) stays registered and becomes the next spare, so in
    steady state a result costs the tracker nothing. Everything still
    registered is unregistered at exit.
    """

    def __init__(self):
        self.unclaimed = set()  # names sent to Node, not yet released
        self.created = []  # [name, mmap] made during the current call
        self.spare = []  # names registered with the tracker, no block yet
        self.fd = None

    def _tell_tracker(self, lines):
        if self.fd is None:
            self.fd = resource_tracker.getfd()  # starts the tracker process on first use
        data = b"".join(lines)
        try:
            os.write(self.fd, data)
        except OSError:  # the tracker died: start another (the old registrations are lost with it)
            resource_tracker.ensure_running()
            self.fd = resource_tracker.getfd()
            os.write(self.fd, data)

    def _register_spare(self, count):
        names = ["psm_" + os.urandom(4).hex() for _ in range(count)]
        self._tell_tracker([b"REGISTER:/%s:shared_memory\n" % n.encode() for n in names])
        self.spare.extend(names)

    def create(self, size):
        """A new block of ``size`` bytes, mapped; returns ``(name, mmap)``."""
        while True:
            if not self.spare:
                self._register_spare(2)  # one for now, one ahead
            name = self.spare.pop()
            path = "/" + name
            try:
                fd = _posixshmem.shm_open(path, _CREATE, mode=0o600)
            except FileExistsError:  # someone else's block: never unlink it
                self._tell_tracker([b"UNREGISTER:%s:shared_memory\n" % path.encode()])
                continue
            try:
                os.ftruncate(fd, size)
                mm = mmap.mmap(fd, size)
            except BaseException:
                _posixshmem.shm_unlink(path)
                self.spare.append(name)
                raise
            finally:
                os.close(fd)
            self.created.append((name, mm))
            return name, mm

    def settle(self, sent):
        """After a call: blocks in the result wait for Node; the others are unlinked now.

        An array made with ``worker.zeros`` and not returned stays usable in
        Python (the mapping lives on), but its name is gone from /dev/shm; the
        name stays registered, as a spare.
        """
        for name, _ in self.created:
            if name in sent:
                self.unclaimed.add(name)
            else:
                _unlink(name)
                self.spare.append(name)
        self.created = []

    def release(self, names):
        """Node attached and unlinked these: their names, still registered, are spares now."""
        for name in names:
            if name in self.unclaimed:
                self.unclaimed.discard(name)
                self.spare.append(name)

    def unlink_all(self):
        """At exit: unlink every block Node never claimed, and tell the tracker all is done."""
        names = [name for name, _ in self.created] + list(self.unclaimed)
        for name in names:
            _unlink(name)
        self.created = []
        self.unclaimed.clear()
        if self.fd is not None and (names or self.spare):
            self._tell_tracker([b"UNREGISTER:/%s:shared_memory\n" % n.encode() for n in names + self.spare])
            self.spare = []


def _unlink(name):
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass  # Node unlinked it first (its RELEASE was still on the way)


# --- Node -> Python ------------------------------------------------------


class Inputs:
    """What a call's references resolved to, and the blocks behind them."""

    def __init__(self, torch):
        self.torch = torch
        self.blocks = []  # (name, mmap) of tensor arguments, to recognise views of them

    def tensor(self, name, dtype, shape, offset, strides):
        np = need("numpy", "worker tensor arguments")
        mm = map_block(name)
        self.blocks.append((name, mm))
        arr = np.ndarray(tuple(shape), dtype=np.dtype(dtype), buffer=mm, offset=offset, strides=tuple(strides))
        return need("torch", "worker arrays='torch'").from_numpy(arr) if self.torch else arr


def _resolve_ref(ref, inputs):
    kind = ref[0]
    if kind == "tensor":
        return inputs.tensor(*ref[1:6])
    if kind == "shm":
        shm = attach(ref[1])
        inputs.blocks.append((ref[1], shm._mmap))  # arrays over shm.buf are views of it too
        return shm
    if kind == "list":
        return shareable_list(ref[1])
    if kind == "table":
        return table(ref[1])
    if kind == "bytes":
        mm = map_block(ref[1])
        try:
            return mm[: ref[2]]
        finally:
            mm.close()
    raise ValueError("unknown reference kind %r" % (kind,))


def resolve(value, objects):
    """``value`` with every ``(Ellipsis, i)`` replaced by ``objects[i]``."""
    t = type(value)
    if t is tuple:
        if len(value) == 2 and value[0] is Ellipsis:
            return objects[value[1]]
        return tuple([resolve(v, objects) for v in value])
    if t is list:
        return [resolve(v, objects) for v in value]
    if t is dict:
        return {k: resolve(v, objects) for k, v in value.items()}
    return value


def resolve_args(payload, torch):
    """``(args, kwargs, inputs)`` from a call payload ``(args, kwargs, refs)``."""
    inputs = Inputs(torch)
    objects = [_resolve_ref(ref, inputs) for ref in payload[2]]
    return resolve(payload[0], objects), resolve(payload[1], objects), inputs


# --- Python -> Node ------------------------------------------------------


def is_plain(value, depth=0):
    """Whether ``value`` is JSON-like with nothing to convert, so marshal can take it as is.

    marshal also accepts what Node cannot read (sets, complex) and writes any
    buffer (a numpy array!) as bytes, so it is never given anything else.
    """
    t = type(value)
    if t in _SCALARS:
        return True
    if depth > 100:
        return False
    if t is list or t is tuple:
        if _SCALARS.issuperset(map(type, value)):
            return True
        return all(is_plain(v, depth + 1) for v in value)
    if t is dict:
        if not all(type(k) is str for k in value):
            return False
        if _SCALARS.issuperset(map(type, value.values())):
            return True
        return all(is_plain(v, depth + 1) for v in value.values())
    return False


def _extent(arr):
    """Lowest and one-past-highest address ``arr``'s elements touch."""
    lo = hi = arr.__array_interface__["data"][0]
    for n, s in zip(arr.shape, arr.strides):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + arr.itemsize


def _address(np, mm):
    return np.frombuffer(mm, dtype=np.uint8).__array_interface__["data"][0]


class Results:
    """Turns a call's result into ``(value, refs)`` for Node."""

    def __init__(self, blocks, inputs):
        self.blocks = blocks
        self.inputs = inputs
        self.refs = []
        self.sent = set()  # names of owned blocks in the result

    def _ref(self, ref):
        self.refs.append(ref)
        return (Ellipsis, len(self.refs) - 1)

    def convert(self, value, depth=0):
        t = type(value)
        if t in _SCALARS:
            return value
        if depth > 200:
            raise ValueError("result nested more than 200 levels deep")
        if t is list or t is tuple:
            return [self.convert(v, depth + 1) for v in value]
        if t is dict:
            return {self._key(k): self.convert(v, depth + 1) for k, v in value.items()}
        if t is bytes or t is bytearray:
            return self._bytes(value)
        if isinstance(value, bool):
            return bool(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [self.convert(v, depth + 1) for v in value]
        if isinstance(value, dict):
            return {self._key(k): self.convert(v, depth + 1) for k, v in value.items()}
        if isinstance(value, (bytes, bytearray)):
            return self._bytes(value)
        if isinstance(value, ShareableList):
            return self._ref(("list", value.shm.name))
        if isinstance(value, SharedMemory):
            return self._ref(("shm", value.name))
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(value, np.ndarray):
                return self._ref(self._array(np, value))
            if isinstance(value, np.generic):
                return self.convert(value.item(), depth + 1)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            return self._ref(self._array(np or need("numpy", "torch results"), self._torch_array(value)))
        pa = sys.modules.get("pyarrow")
        if pa is not None:
            if isinstance(value, pa.RecordBatch):
                value = pa.Table.from_batches([value])
            if isinstance(value, pa.Table):
                return self._ref(self._table(value))
        raise TypeError("cannot send a %s to Node (results are JSON-like values, bytes, numpy arrays, "
                        "CPU torch tensors, pyarrow tables, SharedMemory or ShareableList)" % _typename(value))

    @staticmethod
    def _key(k):
        if type(k) is str:
            return k
        if isinstance(k, int) and not isinstance(k, bool):
            return str(int(k))
        raise TypeError("cannot send a dict with a %s key to Node (keys must be str or int)" % _typename(k))

    def _bytes(self, value):
        if len(value) <= INLINE_BYTES:
            return bytes(value)
        name, mm = self.blocks.create(len(value))
        mm[:] = value
        self.sent.add(name)
        return self._ref(("bytes", name, len(value), True))

    @staticmethod
    def _torch_array(t):
        if t.device.type != "cpu":
            raise TypeError("cannot send a torch tensor on %s to Node: move it to the CPU first (.cpu())" % t.device)
        try:
            return t.detach().numpy()
        except TypeError as e:  # bfloat16 and other dtypes numpy does not have
            raise TypeError("cannot send a torch tensor of %s to Node: %s" % (t.dtype, e)) from None

    def _array(self, np, arr):
        if type(arr) is not np.ndarray:
            arr = np.asarray(arr)  # np.matrix, memmap, masked arrays: their data
        descr = arr.dtype.str
        if arr.dtype.byteorder == ">" and arr.dtype.newbyteorder("<").str in _DTYPES:
            arr = arr.astype(arr.dtype.newbyteorder("<"))
            descr = arr.dtype.str
        if descr not in _DTYPES:
            raise TypeError("cannot send a numpy array of dtype %s to Node (supported: bool, int8-64, uint8-64, float16-64)" % arr.dtype)
        if arr.size and all(s >= 0 for s in arr.strides):
            lo, hi = _extent(arr)
            for name, mm, owned in self._blocks():
                base = _address(np, mm)
                if base <= lo and hi <= base + len(mm):
                    if owned:
                        self.sent.add(name)
                    return ("tensor", name, descr, list(arr.shape), lo - base, list(arr.strides), owned)
        arr, fortran, header = npy_layout(arr)
        name, mm = self.blocks.create(len(header) + arr.nbytes)
        strides = write_npy(mm, arr, fortran, header)
        self.sent.add(name)
        return ("tensor", name, arr.dtype.str, list(arr.shape), len(header), strides, True)

    def _blocks(self):
        for name, mm in self.inputs.blocks if self.inputs is not None else ():
            yield name, mm, False
        for name, mm in self.blocks.created:
            yield name, mm, True

    def _table(self, tbl):
        name, mm = self.blocks.create(stream_size(tbl))
        write_stream(tbl, mm)
        self.sent.add(name)
        return ("table", name, True)


def zeros(blocks, shape, dtype, order):
    """A zeroed numpy array in a new block, returned to Node without a copy."""
    np = need("numpy", "worker.zeros")
    dt = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise ValueError("shape must be non-negative ints, got %r" % (shape,))
    header = _npy_header(np.lib.format.dtype_to_descr(dt), order == "F", shape)
    nbytes = dt.itemsize
    for n in shape:
        nbytes *= n
    _, mm = blocks.create(len(header) + nbytes)
    mm[: len(header)] = header
    return np.ndarray(shape, dtype=dt, buffer=mm, offset=len(header), order=order)


def _typename(value):
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else "%s.%s" % (t.__module__, t.__qualname__)
