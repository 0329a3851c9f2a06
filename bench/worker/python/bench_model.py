"""The module the worker benchmarks call (bench/worker/*.bench.ts)."""
import numpy as np

from shmbridge import worker


def empty():
    return None


def first(x):
    """Takes a tensor, returns a scalar: O(1) in the tensor's size."""
    return float(x.flat[0])


def total(x):
    return float(np.asarray(x, dtype=np.float32).sum(dtype=np.float64))


def new_array(n):
    """A new float32 array of n elements, made in shared memory: returned without a copy."""
    return worker.zeros((n,), np.float32)


_heap = {}


def heap_array(n):
    """A new float32 array on Python's heap (kept between calls): copied into a block on return."""
    a = _heap.get(n)
    if a is None:
        a = _heap[n] = np.ones(n, dtype=np.float32)
    return a


def busy(x, rounds):
    """CPU-bound and single-threaded (sorting is not handed to a BLAS thread pool)."""
    acc = 0.0
    for _ in range(rounds):
        acc += float(np.sort(x)[len(x) // 2])
    return acc
