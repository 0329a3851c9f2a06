"""shmbridge.worker: serve an ordinary module's functions to Node.

Node's ``PythonWorker.start({ module: "model.py" })`` runs
``python -m shmbridge.worker model.py``: the module is imported once (a model
loads once), then each ``worker.call("predict", [x], {"k": 3})`` in Node runs
``model.predict(x, k=3)`` here. Tensors, tables and lists arrive by name,
zero-copy (``x`` is a numpy array over Node's block); results go back the
same way. Nothing to subclass or register::

    from shmbridge import worker

    net = load_model()                      # once per worker

    def predict(x, k=1):
        worker.progress(1, 2, "scoring")    # -> onProgress({ current: 1, total: 2, message })
        if worker.cancelled():
            raise worker.Cancelled()
        return net(x) * k                   # -> a Tensor in Node

Standard library only; numpy, torch and pyarrow are imported when a call
needs them. What the module prints goes to Node's stderr (or ``onOutput``),
never into the calls.
"""
import sys

_server = None  # the running worker (shmbridge._worker_server.Server), set by its main()

__all__ = ["Cancelled", "cancelled", "progress", "zeros"]


class Cancelled(Exception):
    """Raise it when :func:`cancelled` turns true: the call ends as cancelled.

    Node has already rejected the call with an ``AbortError`` (or
    ``ERR_WORKER_TIMEOUT``); raising this tells it the worker stopped in time,
    so it is not killed after the grace period. Raised outside a cancelled
    call, it is an ordinary exception (a ``PythonError`` of type ``Cancelled``).
    """


def cancelled():
    """Whether Node cancelled the running call (its ``signal`` aborted, or ``timeoutMs`` passed).

    Cheap (it reads one word of shared memory): check it in loops. Always
    ``False`` outside a call, and when not running under Node.
    """
    server = _server
    return server is not None and server.cancelled()


def progress(current, total=None, message=None):
    """Report progress of the running call: Node's ``onProgress({ current, total, message })``.

    ``current`` and ``total`` are numbers (``total`` may be None), ``message``
    a str or None. Outside a call (or not under Node) it does nothing.
    Thread-safe.
    """
    current = _number(current, "current")
    total = None if total is None else _number(total, "total")
    if message is not None and not isinstance(message, str):
        raise TypeError("progress message must be a str or None, got %s" % type(message).__name__)
    server = _server
    if server is not None:
        server.progress(current, total, message)


def _number(value, what):
    """``value`` as a plain int or float (numpy scalars included), else TypeError."""
    if type(value) is int or type(value) is float:
        return value
    if not isinstance(value, bool):
        if isinstance(value, int) or hasattr(value, "__index__"):
            return int(value)
        if isinstance(value, float) or hasattr(value, "__float__"):
            return float(value)
    raise TypeError("progress %s must be a number, got %s" % (what, type(value).__name__))


def zeros(shape, dtype="float64", order="C"):
    """A zeroed numpy array that lives in shared memory, for results.

    Returning it (or a view of it) hands Node the block itself: no copy at any
    size. Any other array is copied into a new block on return. Inside a call
    the block is created at once; outside a call (at import, say) this is
    just ``numpy.zeros``.
    """
    server = _server
    if server is None or server.current is None:
        return _numpy().zeros(shape, dtype=dtype, order=order)
    from ._worker_values import zeros as make

    if order not in ("C", "F"):
        raise ValueError("order must be 'C' or 'F', got %r" % (order,))
    return make(server.blocks, shape, dtype, order)


def _numpy():
    from ._optional import need

    return need("numpy", "worker.zeros")


if __name__ == "__main__":
    # `python -m shmbridge.worker` runs this file as __main__; the user's
    # module imports `shmbridge.worker`, a separate module object, and that is
    # where the state must live: main() sets it there.
    from shmbridge._worker_server import main

    sys.exit(main(sys.argv[1:]))
