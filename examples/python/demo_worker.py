"""The Python half of the shmbridge demo: attach to Node's objects by name."""
import struct
import sys

import shmbridge  # attaches without letting Python's resource tracker unlink Node's blocks

block_name, list_name, tensor_name, table_name, answer_name = sys.argv[1:6]

# 1. The raw block, through multiprocessing.shared_memory.SharedMemory
shm = shmbridge.attach(block_name)
greeting = bytes(shm.buf[:15]).decode()
xs = struct.unpack_from("<4d", shm.buf, 64)
print(f"python: block  {shm.name} ({shm.size} bytes): read {greeting!r} and {list(xs)}")
shm.buf[128:145] = b"hello from Python"
struct.pack_into("<4d", shm.buf, 64, *(2 * x for x in xs))
shm.close()

# 2. The list, as CPython's own ShareableList
sl = shmbridge.shareable_list(list_name)
print(f"python: list   {list(sl)}")
sl[0] = "hi Node"
sl[1] += 1
sl.shm.close()

# 3. The tensor, as a numpy array (zero-copy)
try:
    import numpy  # noqa: F401
except ImportError:
    print("python: tensor skipped: numpy is not installed for this python3 (pip install numpy)")
else:
    a = shmbridge.ndarray(tensor_name)
    print(f"python: tensor {a.dtype} {a.shape}, sum={a.sum()}")
    a *= 10
    del a

# 4. The table, as a pyarrow Table over Node's block (zero-copy), and an answer table back
import pyarrow.compute as pc  # noqa: E402  (pip install pyarrow)

t = shmbridge.table(table_name)
print(f"python: table  {t.num_rows} rows {t.schema.names}, total kg={pc.sum(t['kg']).as_py()}")
heavy = t.filter(pc.greater(t["kg"], 1))
shmbridge.share_table(heavy, name=answer_name, track=False)  # Node reads it, then unlinks it
del t, heavy
