"""The worker process behind Node's ``PythonWorker``: ``python -m shmbridge.worker MODULE``.

The channel is two inherited file descriptors, never stdout: Node writes
frames to ``fd_in`` and reads ours from ``fd_out`` (3 and 4 unless told
otherwise), so whatever user code prints on stdout/stderr is just output,
which Node forwards. Frames, both directions::

    u32 LE length N (1 <= N <= max_frame), then N bytes; byte 0 is the type

    Node -> Python
      CALL      0x01  u32 id, u8 flags, u16 len, function name (UTF-8), [payload]
                      flags & 1: payload = marshal (args, kwargs) or (args, kwargs, refs)
      RELEASE   0x02  marshal [names]: result blocks Node attached and unlinked
    Python -> Node
      READY     0x10  marshal (python version, pid)
      FAILED    0x11  marshal (type, message, traceback): the module did not import
      RESULT    0x12  u32 id, u8 flags, [payload]   flags & 1: payload (else None); & 2: it is (value, refs)
      ERROR     0x13  u32 id, marshal (type, message, traceback)
      NOFUNC    0x14  u32 id, marshal message
      CANCELLED 0x15  u32 id
      PROGRESS  0x16  u32 id, marshal (current, total, message)
      FATAL     0x17  marshal message: a frame from Node was refused; this process exits (status 3)

Calls are served one at a time in the order they arrive; Node relies on
that (a reply always answers its oldest outstanding call). Cancellation
does not travel on the channel: Node writes the call's id into slot
``id % ring`` of a small control block both map, which ``worker.cancelled()``
reads, so a running call sees it without a reader thread — the per-call
path stays one read and one write on the main thread (each wake-up of a
second thread would cost about as much as the whole call).

Lifetime: EOF on ``fd_in`` (Node closed it, or died) ends the loop; on
Linux the process also asks for SIGKILL when its parent dies
(``PR_SET_PDEATHSIG``), which ends a call that is still running. Result
blocks are registered with Python's resource tracker until Node claims them,
so they are unlinked however this process ends.
"""
import marshal
import os
import signal
import struct
import sys
import threading
from time import perf_counter_ns

from . import worker as api
from ._attach import map_block
from ._worker_values import ResultBlocks, Results, is_plain, resolve_args

CALL, RELEASE = 0x01, 0x02
READY, FAILED, RESULT, ERROR, NOFUNC, CANCELLED, PROGRESS, FATAL = range(0x10, 0x18)
FATAL_STATUS = 3
FAST_NS = 200_000

_LEN = struct.Struct("<I")
_CALL = struct.Struct("<IBH")  # after the type byte: id, flags, function name length
_HEAD = struct.Struct("<IBI")  # length, type, id
_RESULT = struct.Struct("<IBIB")  # length, type, id, flags
_TYPE = struct.Struct("<IB")  # length, type
_SCALARS = (type(None), bool, int, float, str)


class ProtocolError(Exception):
    """A frame from Node that this side refuses (the worker then exits)."""


class Server:
    """One worker: the channel, the control block, the module, its result blocks."""

    def __init__(self, fd_in, fd_out, control, ring, max_frame, torch):
        self.fd_in = fd_in
        self.fd_out = fd_out
        self.control = control
        self.mask = ring - 1
        self.max_frame = max_frame
        self.torch = torch
        self.blocks = ResultBlocks()
        self.current = None  # id of the call running now
        self.module = None
        # Progress may be reported from the user's threads while the main
        # thread writes a reply: frames must not interleave.
        self.lock = threading.Lock()
        self.held = []  # replies not yet written (see reply())
        self.fast = {}  # function name -> whether its last call took under FAST_NS

    # --- writing

    def send(self, frame):
        with self.lock:
            if self.held:
                frame = b"".join(self.held) + frame
                self.held = []
            self._write(frame)

    def _write(self, frame):
        n = os.write(self.fd_out, frame)
        if n < len(frame):
            view = memoryview(frame)
            while n < len(frame):
                n += os.write(self.fd_out, view[n:])

    def reply(self, frame, more):
        """Sends a call's reply, or holds it while more calls are already waiting in the buffer.

        Pipelined calls then cost one write (and one wake-up of Node) per
        batch instead of one each. A held reply goes out before the next
        call starts unless that function was fast (under FAST_NS) last time,
        so a slow call never sits on earlier results it did not know about.
        """
        if more:
            self.held.append(frame)
        else:
            self.send(frame)

    def flush(self):
        if self.held:
            self.send(b"")

    def send_marshal(self, kind, value, call_id=None):
        payload = marshal.dumps(value, 2)
        if call_id is None:
            self.send(_TYPE.pack(len(payload) + 1, kind) + payload)
        else:
            self.send(_HEAD.pack(len(payload) + 5, kind, call_id) + payload)

    # --- the loop

    def serve(self):
        """Serve calls until Node closes the channel."""
        read = os.read
        fd = self.fd_in
        max_frame = self.max_frame
        unpack_len = _LEN.unpack_from
        buf = b""
        while True:
            chunk = read(fd, 65536)
            if not chunk:
                if buf:
                    raise ProtocolError("the channel closed in the middle of a frame")
                return
            buf = buf + chunk if buf else chunk
            n = len(buf)
            pos = 0
            while n - pos >= 4:
                (length,) = unpack_len(buf, pos)
                if length == 0 or length > max_frame:
                    raise ProtocolError("a frame of %d bytes (the limit is 1 to %d)" % (length, max_frame))
                end = pos + 4 + length
                if end > n:
                    buf = buf[pos:] + self._read_exactly(end - n)
                    n = len(buf)
                    pos = 0
                    end = 4 + length
                kind = buf[pos + 4]
                if kind == CALL:
                    # More frames already here: this reply may wait for theirs (one write).
                    more = n - end >= 4 and n - end >= 4 + unpack_len(buf, end)[0]
                    self.on_call(buf, pos + 5, end, more)
                elif kind == RELEASE:
                    self.blocks.release(self._loads(buf[pos + 5 : end], "RELEASE"))
                else:
                    raise ProtocolError("unknown frame type 0x%02x" % kind)
                pos = end
            self.flush()
            buf = buf[pos:] if pos < n else b""

    def _read_exactly(self, count):
        """The rest of a frame larger than one read: gathered, then joined once."""
        parts = []
        while count > 0:
            chunk = os.read(self.fd_in, min(count, 1 << 20))
            if not chunk:
                raise ProtocolError("the channel closed in the middle of a frame")
            parts.append(chunk)
            count -= len(chunk)
        return b"".join(parts)

    @staticmethod
    def _loads(data, what):
        try:
            return marshal.loads(data)
        except (EOFError, ValueError, TypeError) as e:
            raise ProtocolError("%s frame with a garbled payload (%s)" % (what, e)) from None

    # --- one call

    def on_call(self, buf, pos, end, more=False):
        if end - pos < 7:
            raise ProtocolError("CALL frame of %d bytes is too short" % (end - pos + 1))
        call_id, flags, name_len = _CALL.unpack_from(buf, pos)
        pos += 7
        if pos + name_len > end:
            raise ProtocolError("CALL frame: the function name runs past the frame")
        try:
            name = buf[pos : pos + name_len].decode()
        except UnicodeDecodeError:
            raise ProtocolError("CALL frame: the function name is not UTF-8") from None
        pos += name_len
        if self.control[call_id & self.mask] == call_id:
            # Cancelled while it waited in the pipe: never started.
            self.reply(_HEAD.pack(5, CANCELLED, call_id), more)
            return
        fn = self.lookup(name)
        if fn is None:
            payload = marshal.dumps(self.no_function(name), 2)
            self.reply(_HEAD.pack(len(payload) + 5, NOFUNC, call_id) + payload, more)
            return
        if self.held and not self.fast.get(name):
            self.flush()
        inputs = None
        started = perf_counter_ns()
        self.current = call_id
        try:
            if flags & 1:
                payload = self._loads(buf[pos:end], "CALL")
                if type(payload) is not tuple or len(payload) not in (2, 3):
                    raise ProtocolError("CALL frame: the payload is not (args, kwargs[, refs])")
                if len(payload) == 3:
                    args, kwargs, inputs = resolve_args(payload, self.torch)
                else:
                    args, kwargs = payload
                result = fn(*args, **kwargs)
            else:
                result = fn()
            frame = self.encode(call_id, result, inputs)
        except ProtocolError:
            raise
        except api.Cancelled as e:
            frame = _HEAD.pack(5, CANCELLED, call_id) if self.cancelled() else self.error_frame(call_id, e)
        except (Exception, KeyboardInterrupt) as e:
            frame = self.error_frame(call_id, e)
        finally:
            self.current = None
        self.fast[name] = perf_counter_ns() - started < FAST_NS
        self.reply(frame, more)

    def encode(self, call_id, result, inputs):
        """The RESULT frame for ``result`` (blocks it needs are created here)."""
        if result is None:
            self.blocks.settle(())
            return _RESULT.pack(6, RESULT, call_id, 0)
        sent = ()
        try:
            if type(result) in _SCALARS or is_plain(result):
                payload = marshal.dumps(result, 2)
                flags = 1
            else:
                results = Results(self.blocks, inputs)
                value = results.convert(result)
                sent = results.sent
                payload = marshal.dumps((results.refs, value), 2)
                flags = 3
            if len(payload) + 6 > self.max_frame:
                raise ValueError("the result is %d bytes as a message, over the %d-byte frame limit: return large data as a numpy array, bytes or a table (they travel in shared memory)" % (len(payload), self.max_frame))
        except BaseException:
            self.blocks.settle(())
            raise
        self.blocks.settle(sent)
        return _RESULT.pack(len(payload) + 6, RESULT, call_id, flags) + payload

    def error_frame(self, call_id, e):
        import traceback

        try:
            message = str(e)
        except Exception:
            message = "<unprintable %s>" % type(e).__name__
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None  # from the user's frame on
        text = "".join(traceback.format_exception(type(e), e, tb))
        payload = marshal.dumps((type(e).__qualname__, message, text), 2)
        return _HEAD.pack(len(payload) + 5, ERROR, call_id) + payload

    def lookup(self, name):
        if "." not in name:
            fn = getattr(self.module, name, None)
        else:
            fn = self.module
            for part in name.split("."):
                fn = getattr(fn, part, None)
        return fn if callable(fn) else None

    def no_function(self, name):
        what = getattr(self.module, "__name__", "?")
        obj = self.module
        for part in name.split("."):
            obj = getattr(obj, part, None)
        if obj is None:
            return "module %r has no function %r" % (what, name)
        return "%r in module %r is not callable (it is a %s)" % (name, what, type(obj).__name__)

    # --- the public API's backend (shmbridge.worker)

    def cancelled(self):
        call_id = self.current
        return call_id is not None and self.control[call_id & self.mask] == call_id

    def progress(self, current, total, message):
        call_id = self.current
        if call_id is not None:
            self.send_marshal(PROGRESS, (current, total, message), call_id)


def load_module(spec):
    """Import the user's module once: a file path (``model.py``, ``./a/b.py``) or a dotted name."""
    import importlib
    import importlib.util

    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        name = os.path.splitext(os.path.basename(path))[0]
        if not os.path.isfile(path):
            raise FileNotFoundError("no such module file: %r (from cwd %r)" % (spec, os.getcwd()))
        # As `python model.py` would: the file's folder first on sys.path, so its siblings import.
        sys.path.insert(0, os.path.dirname(path))
        found = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(found)
        sys.modules[name] = module
        try:
            found.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    return importlib.import_module(spec)


def _lifeline():
    """Die with Node even while a call runs (EOF on the channel covers the idle case)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL)) == 0:
                return
        except (OSError, AttributeError):
            pass
    parent = os.getppid()

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # result blocks: the resource tracker unlinks them

    threading.Thread(target=watch, name="shmbridge-lifeline", daemon=True).start()


USAGE = "python -m shmbridge.worker MODULE is started by Node's PythonWorker (@shmbridge/worker), which passes its channel; it is not meant to be run by hand\n"


def main(argv):
    config = os.environ.pop("SHMBRIDGE_WORKER", None)
    if config is None or len(argv) != 1:
        sys.stderr.write(USAGE)
        return 2
    try:
        fd_in, fd_out, control_name, ring, max_frame, arrays = config.split(",")
        fd_in, fd_out, ring, max_frame = int(fd_in), int(fd_out), int(ring), int(max_frame)
        os.fstat(fd_in)
        os.fstat(fd_out)
    except (ValueError, OSError) as e:
        sys.stderr.write("shmbridge.worker: bad SHMBRIDGE_WORKER %r (%s)\n%s" % (config, e, USAGE))
        return 2
    _lifeline()
    for fd in (fd_in, fd_out):
        os.set_inheritable(fd, False)  # user subprocesses must not hold the channel open
    control = memoryview(map_block(control_name)).cast("I")
    server = Server(fd_in, fd_out, control, ring, max_frame, arrays == "torch")
    api._server = server
    sys.argv = [argv[0]]
    try:
        server.module = load_module(argv[0])
    except BaseException as e:  # SystemExit at import time too: Node gets the reason
        import traceback

        text = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        try:
            server.send_marshal(FAILED, (type(e).__qualname__, str(e), text))
        except OSError:
            pass
        return 1
    try:
        server.send_marshal(READY, (sys.version.split()[0], os.getpid()))
        server.serve()
    except ProtocolError as e:
        try:
            server.send_marshal(FATAL, str(e))
        except OSError:
            pass
        sys.stderr.write("shmbridge.worker: %s; exiting\n" % e)
        return FATAL_STATUS
    except BrokenPipeError:
        pass  # Node is gone
    finally:
        try:
            server.flush()  # replies held back for a batch (sys.exit() in a later call of it)
        except OSError:
            pass
        api._server = None
        server.blocks.unlink_all()
    return 0
