"""shmbridge.worker, driven frame by frame the way Node drives it (see _worker_server's docstring)."""
import marshal
import os
import struct
import subprocess
import sys
import textwrap
import time
from multiprocessing import shared_memory

import numpy as np
import pytest

from conftest import PACKAGE_ROOT, PYTHONS, exists

CALL, RELEASE = 0x01, 0x02
READY, FAILED, RESULT, ERROR, NOFUNC, CANCELLED, PROGRESS, FATAL = range(0x10, 0x18)
RING = 4096

MODULE = textwrap.dedent('''
    import os, sys, time
    from shmbridge import worker

    def nothing():
        return None

    def add(a, b=1):
        return a + b

    def shout(text):
        print(text)
        sys.stdout.flush()
        return len(text)

    def report(n):
        for i in range(n):
            worker.progress(i + 1, n, "step")
        return "done"

    def wait_for_cancel(seconds):
        end = time.time() + seconds
        while time.time() < end:
            if worker.cancelled():
                raise worker.Cancelled()
            time.sleep(0.005)
        return "not cancelled"

    ran = []

    def mark(name):
        ran.append(name)
        return list(ran)

    def zeros(n):
        out = worker.zeros((n,), "int32")
        out[:] = 7
        return out

    def tail(x):
        return x[1:]

    def boom():
        raise KeyError("k")
''')


class Worker:
    """A worker process and its two pipes, as Node's PythonWorker sets them up."""

    def __init__(self, exe, tmp_path, module_source=MODULE):
        path = tmp_path / "mod.py"
        path.write_text(module_source)
        self.control = shared_memory.SharedMemory(create=True, size=RING * 4)
        self.slots = self.control.buf.cast("I")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1",
                   SHMBRIDGE_WORKER="%d,%d,%s,%d,%d,numpy" % (to_r, from_w, self.control.name, RING, 1 << 20))
        self.proc = subprocess.Popen([exe, "-m", "shmbridge.worker", str(path)], pass_fds=(to_r, from_w), env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(tmp_path))
        os.close(to_r)
        os.close(from_w)
        self.pending = b""

    def send(self, body):
        os.write(self.to_w, struct.pack("<I", len(body)) + body)

    def call(self, call_id, fn, args=None, kwargs=None, refs=None):
        name = fn.encode()
        payload = b""
        if args is not None or kwargs is not None:
            value = (list(args or []), dict(kwargs or {})) + ((refs,) if refs is not None else ())
            payload = marshal.dumps(value, 2)
        self.send(struct.pack("<BIBH", CALL, call_id, 1 if payload else 0, len(name)) + name + payload)

    def recv(self, timeout=30):
        deadline = time.time() + timeout
        while True:
            if len(self.pending) >= 4:
                (n,) = struct.unpack_from("<I", self.pending)
                if len(self.pending) >= 4 + n:
                    body, self.pending = self.pending[4 : 4 + n], self.pending[4 + n :]
                    return body
            if time.time() > deadline:
                raise AssertionError("no frame from the worker")
            chunk = os.read(self.from_r, 65536)
            if not chunk:
                raise EOFError("the worker closed its channel")
            self.pending += chunk

    def reply(self):
        """(type, call id, value) of the next reply."""
        body = self.recv()
        kind = body[0]
        if kind in (READY, FAILED, FATAL):
            return kind, None, marshal.loads(body[1:])
        (call_id,) = struct.unpack_from("<I", body, 1)
        if kind == RESULT:
            flags = body[5]
            return kind, call_id, marshal.loads(body[6:]) if flags & 1 else None
        if kind == CANCELLED:
            return kind, call_id, None
        return kind, call_id, marshal.loads(body[5:])

    def close(self):
        try:
            os.close(self.to_w)
        except OSError:
            pass
        try:
            out, err = self.proc.communicate(timeout=30)
        finally:
            os.close(self.from_r)
            del self.slots
            self.control.close()
            self.control.unlink()
        return self.proc.returncode, out.decode(), err.decode()


@pytest.fixture
def start(tmp_path):
    made = []

    def make(exe=sys.executable, source=MODULE):
        w = Worker(exe, tmp_path, source)
        made.append(w)
        kind, _, info = w.reply()
        assert kind == READY, info
        return w

    yield make
    for w in made:
        if w.proc.returncode is None:
            w.proc.kill()
            w.close()


@pytest.mark.parametrize("exe", PYTHONS, ids=lambda e: e.split("/")[-3])
def test_serves_calls_in_order_on_every_python(start, exe):
    w = start(exe)
    w.call(1, "nothing")
    w.call(2, "add", [40], {"b": 2})
    w.call(3, "add", ["a", "b"])
    w.call(4, "nope", [])
    w.call(5, "boom", [])
    assert w.reply() == (RESULT, 1, None)
    assert w.reply() == (RESULT, 2, 42)
    assert w.reply() == (RESULT, 3, "ab")
    kind, cid, message = w.reply()
    assert (kind, cid) == (NOFUNC, 4) and "has no function 'nope'" in message
    kind, cid, (etype, emsg, tb) = w.reply()
    assert (kind, cid, etype, emsg) == (ERROR, 5, "KeyError", "'k'")
    assert tb.startswith("Traceback (most recent call last):\n") and "in boom" in tb
    assert w.close()[0] == 0


def test_prints_go_to_stdout_not_into_the_channel(start):
    w = start()
    w.call(1, "shout", ["\x00\x00\x00\x05hello, not a frame"])
    assert w.reply() == (RESULT, 1, 22)
    code, out, _ = w.close()
    assert code == 0 and out == "\x00\x00\x00\x05hello, not a frame\n"


def test_progress_frames_come_before_the_result(start):
    w = start()
    w.call(9, "report", [2])
    assert w.reply() == (PROGRESS, 9, (1, 2, "step"))
    assert w.reply() == (PROGRESS, 9, (2, 2, "step"))
    assert w.reply() == (RESULT, 9, "done")


def test_a_call_marked_cancelled_before_it_starts_never_runs(start):
    w = start()
    w.slots[7] = 7
    w.call(7, "mark", ["cancelled one"])
    w.call(8, "mark", ["next"])
    assert w.reply() == (CANCELLED, 7, None)
    assert w.reply() == (RESULT, 8, ["next"])


def test_a_running_call_sees_cancelled_and_ends_as_cancelled(start):
    w = start()
    w.call(3, "wait_for_cancel", [30])
    time.sleep(0.2)
    w.slots[3] = 3
    assert w.reply() == (CANCELLED, 3, None)
    w.slots[3] = 0  # the next call in slot 3 is a new one (Node clears the slot when it sends)
    w.call(3 + RING, "wait_for_cancel", [0.05])
    assert w.reply() == (RESULT, 3 + RING, "not cancelled")


def test_a_result_made_with_zeros_is_that_block_and_exit_unlinks_it_if_unclaimed(start):
    w = start()
    w.call(1, "zeros", [4])
    kind, _, (refs, value) = w.reply()
    assert kind == RESULT and value == (Ellipsis, 0)
    ((ref_kind, name, dtype, shape, offset, strides, owned),) = refs
    assert (ref_kind, dtype, shape, offset, strides, owned) == ("tensor", "<i4", [4], 128, [4], True)
    shm = shared_memory.SharedMemory(name)
    try:
        assert bytes(shm.buf[:6]) == b"\x93NUMPY"
        assert bytes(shm.buf[128:144]) == struct.pack("<4i", 7, 7, 7, 7)
    finally:
        shm.close()
        from multiprocessing import resource_tracker

        resource_tracker.unregister(shm._name, "shared_memory")  # attached only (bpo-39959)
    code, _, err = w.close()  # never RELEASEd: the worker unlinks it as it exits
    assert code == 0 and not exists(name)
    assert "leaked" not in err


def test_a_released_result_is_forgotten_without_warnings(start):
    w = start()
    w.call(1, "zeros", [2])
    _, _, (refs, _) = w.reply()
    name = refs[0][1]
    import _posixshmem

    _posixshmem.shm_unlink("/" + name)  # what Node does on arrival
    w.send(bytes([RELEASE]) + marshal.dumps([name], 2))
    w.call(2, "nothing")
    assert w.reply() == (RESULT, 2, None)
    code, _, err = w.close()
    assert code == 0 and err == ""


def test_a_view_of_an_input_comes_back_as_a_view_of_that_block(start, cleanup):
    import shmbridge

    shm, handle = shmbridge.share(np.arange(5, dtype=np.float64))
    cleanup.append(shm)
    w = start()
    ref = ("tensor", handle["name"], "<f8", [5], handle["offset"], [8])
    w.call(1, "tail", [(Ellipsis, 0)], {}, [ref])
    _, _, (refs, value) = w.reply()
    assert value == (Ellipsis, 0)
    assert refs == [("tensor", shm.name, "<f8", [4], handle["offset"] + 8, [8], False)]


@pytest.mark.parametrize("body, says", [
    (b"\xee", "unknown frame type 0xee"),
    (bytes([CALL]) + b"\x01\x00", "too short"),
    (struct.pack("<BIBH", CALL, 1, 1, 3) + b"add" + b"\xff\xff garbage", "garbled payload"),
    (struct.pack("<BIBH", CALL, 1, 0, 200) + b"add", "runs past the frame"),
    (struct.pack("<BIBH", CALL, 1, 0, 2) + b"\xff\xfe", "not UTF-8"),
    (struct.pack("<BIBH", CALL, 1, 1, 3) + b"add" + marshal.dumps([1, 2], 2), "not (args, kwargs"),
    (bytes([RELEASE]) + b"\x00", "garbled payload"),
])
def test_a_garbled_frame_from_node_ends_the_worker_with_fatal(start, body, says):
    w = start()
    w.send(body)
    kind, _, message = w.reply()
    assert kind == FATAL and says in message
    code, _, err = w.close()
    assert code == 3 and says in err


@pytest.mark.parametrize("header, says", [
    (struct.pack("<I", 0), "a frame of 0 bytes"),
    (struct.pack("<I", (1 << 20) + 1), "a frame of 1048577 bytes (the limit is 1 to 1048576)"),
])
def test_a_frame_length_out_of_bounds_ends_the_worker_with_fatal(start, header, says):
    w = start()
    os.write(w.to_w, header)
    kind, _, message = w.reply()
    assert kind == FATAL and says in message
    assert w.close()[0] == 3


def test_eof_in_the_middle_of_a_frame_is_fatal(start):
    w = start()
    os.write(w.to_w, struct.pack("<I", 100) + b"\x01\x02")
    os.close(w.to_w)
    assert w.close()[0] == 3


def test_a_frame_split_over_many_reads_is_put_together(start):
    w = start()
    big = "x" * 200000
    name = b"add"
    payload = marshal.dumps(([big, "y"], {}), 2)
    body = struct.pack("<BIBH", CALL, 1, 1, len(name)) + name + payload
    data = struct.pack("<I", len(body)) + body
    for i in range(0, len(data), 7000):
        os.write(w.to_w, data[i : i + 7000])
    assert w.reply() == (RESULT, 1, big + "y")


def test_an_import_error_is_sent_as_failed_with_its_traceback(tmp_path):
    w = Worker(sys.executable, tmp_path, "import no_such_dependency_here\n")
    kind, _, (etype, message, tb) = w.reply()
    assert (kind, etype) == (FAILED, "ModuleNotFoundError")
    assert "no_such_dependency_here" in message and "mod.py" in tb
    assert w.close()[0] == 1


def test_run_by_hand_it_says_what_it_is_for():
    r = subprocess.run([sys.executable, "-m", "shmbridge.worker", "x.py"], capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=PACKAGE_ROOT))
    assert r.returncode == 2 and "started by Node's PythonWorker" in r.stderr


def test_the_public_api_outside_a_worker_is_harmless():
    from shmbridge import worker

    assert worker.cancelled() is False
    worker.progress(1, 2, "nobody listens")
    with pytest.raises(TypeError):
        worker.progress("1")
    with pytest.raises(TypeError):
        worker.progress(1, message=3)
    z = worker.zeros((2, 2), "int8")
    assert type(z) is np.ndarray and z.dtype == np.int8 and not z.any()
