"""The Python half of the shmbridge demo: attach to Node's block by name."""
import struct
import sys

import shmbridge  # attach() never lets Python's resource tracker unlink Node's block

shm = shmbridge.attach(sys.argv[1])
greeting = bytes(shm.buf[:15]).decode()
xs = struct.unpack_from("<4d", shm.buf, 64)
print(f"python: attached {shm.name} ({shm.size} bytes), read {greeting!r} and {list(xs)}")
shm.buf[128:145] = b"hello from Python"
struct.pack_into("<4d", shm.buf, 64, *(2 * x for x in xs))
shm.close()
