"""Handles: the JSON objects Node's shmbridge reads and writes.

A tensor handle is ``{"name", "dtype", "shape", "offset", "strides"}``
(NumPy type string, byte strides, C order when strides are absent). Handles
come from other processes: they are checked here before anything is opened.
"""
import json

_MAX_DIMS = 64


class HandleError(ValueError):
    """A handle that is not well-formed."""


def _int(value, what, minimum=0):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise HandleError("handle %s must be an int >= %d, got %r" % (what, minimum, value))
    return value


def parse_handle(handle):
    """Validate a tensor handle (dict or JSON string) and return it as a dict.

    ``offset`` defaults to 0 and ``strides`` to None (C order).
    """
    if isinstance(handle, (str, bytes)):
        try:
            handle = json.loads(handle)
        except ValueError as e:
            raise HandleError("handle is not valid JSON: %s" % e) from None
    if not isinstance(handle, dict):
        raise HandleError("handle must be a dict or a JSON object, got %s" % type(handle).__name__)
    name = handle.get("name")
    if not isinstance(name, str) or not name:
        raise HandleError("handle name must be a non-empty str, got %r" % (name,))
    dtype = handle.get("dtype")
    if not isinstance(dtype, str) or not dtype or len(dtype) > 16:
        raise HandleError("handle dtype must be a NumPy type string such as '<f4', got %r" % (dtype,))
    shape = handle.get("shape")
    if not isinstance(shape, (list, tuple)) or len(shape) > _MAX_DIMS:
        raise HandleError("handle shape must be a list of at most %d ints, got %r" % (_MAX_DIMS, shape))
    shape = tuple(_int(d, "shape entries") for d in shape)
    offset = _int(handle.get("offset", 0), "offset")
    strides = handle.get("strides")
    if strides is not None:
        if not isinstance(strides, (list, tuple)) or len(strides) != len(shape):
            raise HandleError("handle strides must be a list with one int per dimension, got %r" % (strides,))
        strides = tuple(_int(s, "strides entries", minimum=-(2 ** 62)) for s in strides)
    return {"name": name, "dtype": dtype, "shape": shape, "offset": offset, "strides": strides}
