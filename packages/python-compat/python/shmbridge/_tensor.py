"""Tensors: numpy arrays and torch tensors over shared memory, zero-copy.

Tensor blocks hold a NumPy ``.npy`` array (header, then data on a 64-byte
boundary), which is what Node's ``Tensor.create`` writes and ``share`` writes
here, so a name is all a reader needs. Other layouts are described by a
handle.
"""
from ._attach import create, map_block
from ._handles import parse_handle
from ._optional import need

_MAGIC = b"\x93NUMPY"


def ndarray(name_or_handle):
    """A numpy array over a tensor block, zero-copy (writes show up in Node).

    ``name_or_handle`` is a block name (the block must start with a ``.npy``
    header, as Node's ``Tensor.create`` writes) or a handle (dict or JSON
    string) for any other layout. The array keeps the block mapped for as
    long as it lives.
    """
    np = need("numpy", "ndarray")
    if isinstance(name_or_handle, str) and not name_or_handle.lstrip().startswith("{"):
        mm = map_block(name_or_handle)
        if mm[:6] != _MAGIC:
            raise ValueError("block %r has no .npy header; attach it with a handle {name, dtype, shape, offset, strides}" % name_or_handle)
        version = (mm[6], mm[7])
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError("block %r: unsupported .npy version %d.%d" % ((name_or_handle,) + version))
        import io

        fp = io.BytesIO(mm[: min(len(mm), 10 + 4 + 10000)])
        fp.seek(8)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        if version == (3, 0):
            read = np.lib.format._read_array_header  # noqa: SLF001 - same parser numpy uses for 3.0
            shape, fortran, dtype = read(fp, version)
        else:
            shape, fortran, dtype = read(fp)
        offset = fp.tell()
        return np.ndarray(shape, dtype=dtype, buffer=mm, offset=offset, order="F" if fortran else "C")
    h = parse_handle(name_or_handle)
    dtype = np.dtype(h["dtype"])
    mm = map_block(h["name"])
    return np.ndarray(h["shape"], dtype=dtype, buffer=mm, offset=h["offset"], strides=h["strides"])


def tensor(name_or_handle):
    """A torch tensor over a tensor block, zero-copy (see ``ndarray``)."""
    return need("torch", "tensor").from_numpy(ndarray(name_or_handle))


def _npy_header(descr, fortran_order, shape):
    """The header numpy writes (numpy.lib.format._write_array_header, version None)."""
    dict_text = "{'descr': %r, 'fortran_order': %r, 'shape': %r, }" % (descr, fortran_order, tuple(shape))
    if len(shape) > 0:
        dict_text += " " * (21 - len(repr(shape[-1 if fortran_order else 0])))
    text = dict_text.encode("latin1")
    for major, length_bytes in ((1, 2), (2, 4)):
        hlen = len(text) + 1
        padlen = 64 - ((8 + length_bytes + hlen) % 64)
        if major == 1 and hlen + padlen > 0xFFFF:
            continue
        total = hlen + padlen
        return _MAGIC + bytes([major, 0]) + total.to_bytes(length_bytes, "little") + text + b" " * padlen + b"\n"
    raise ValueError("npy header too long")


def npy_layout(array):
    """``(arr, fortran, header)``: ``array`` as numpy will lay it out in a block
    (little-endian, C- or Fortran-contiguous) and the ``.npy`` header before it."""
    np = need("numpy", "share")
    arr = np.asarray(array)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    fortran = bool(arr.flags.f_contiguous and not arr.flags.c_contiguous)
    if not (arr.flags.c_contiguous or fortran):
        arr = np.ascontiguousarray(arr)
    return arr, fortran, _npy_header(np.lib.format.dtype_to_descr(arr.dtype), fortran, arr.shape)


def write_npy(buf, arr, fortran, header):
    """Write ``header`` then ``arr``'s data into ``buf``; return the data's byte strides."""
    np = need("numpy", "share")
    buf[: len(header)] = header
    view = np.ndarray(arr.shape, dtype=arr.dtype, buffer=buf, offset=len(header), order="F" if fortran else "C")
    view[...] = arr
    strides = list(view.strides)
    del view  # release the export of buf, so the block can be closed later
    return strides


def share(array, name=None, track=True):
    """Copy ``array`` into a new block in the ``.npy`` format; return ``(shm, handle)``.

    The block is created by this process (tracked by Python's resource
    tracker, like any SharedMemory it creates): keep ``shm`` and call
    ``shm.unlink()`` when readers are done — or pass ``track=False`` to hand
    it to the reader (Node), which then unlinks it. Node attaches with
    ``Tensor.attach(shm.name)`` or ``Tensor.attach(handle)``.
    """
    arr, fortran, header = npy_layout(array)
    shm = create(len(header) + arr.nbytes, name, track)
    try:
        strides = write_npy(shm.buf, arr, fortran, header)
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    descr = need("numpy", "share").lib.format.dtype_to_descr(arr.dtype)
    handle = {"name": shm.name, "dtype": descr, "shape": list(arr.shape), "offset": len(header), "strides": strides}
    return shm, handle
