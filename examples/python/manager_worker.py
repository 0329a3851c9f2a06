"""A Python worker using a manager that Node started: CPython's own client."""
import sys
from multiprocessing import resource_tracker
from multiprocessing.managers import SharedMemoryManager

address, authkey, worker = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
smm = SharedMemoryManager(address=address, authkey=authkey)
smm.connect()
shm = smm.SharedMemory(1024)
sl = smm.ShareableList([f"worker {worker}", 1.5, None])
# The manager owns these blocks now; keep this process's tracker from unlinking them too (bpo-39959).
for s in (shm, sl.shm):
    resource_tracker.unregister(s._name, "shared_memory")
print(f"python: worker {worker} made {shm.name} and a list {sl.shm.name} through the manager")
shm.close()
sl.shm.close()
