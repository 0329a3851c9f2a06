"""The floors the worker is measured against: raw bytes over a pipe, no protocol.

Reads fd 3, writes fd 4 (the layout PythonWorker uses). Requests are one byte
of command then a u32 length:
  s  send:   read `length` bytes, reply 8 bytes (their float32 sum as a float64)
  r  receive: reply with `length` bytes of float32 ones
"""
import os
import struct

import numpy as np

fd_in, fd_out = 3, 4
pending = b""


def read_exactly(n):
    global pending
    parts = [pending]
    have = len(pending)
    while have < n:
        chunk = os.read(fd_in, min(1 << 20, max(n - have, 65536)))
        if not chunk:
            raise SystemExit(0)
        parts.append(chunk)
        have += len(chunk)
    data = b"".join(parts)
    pending = data[n:]
    return data[:n]


def write_all(data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd_out, view):]


while True:
    if not pending:
        pending = os.read(fd_in, 65536)
        if not pending:
            break
    head = read_exactly(5)
    (n,) = struct.unpack_from("<I", head, 1)
    if head[:1] == b"s":
        body = read_exactly(n)
        write_all(struct.pack("<d", float(np.frombuffer(body, dtype=np.float32).sum(dtype=np.float64))))
    else:
        write_all(np.ones(n // 4, dtype=np.float32).tobytes())
