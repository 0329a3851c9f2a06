"""A CPU-bound numpy function for a pool of workers (examples/worker-pool.ts)."""
import os

import numpy as np


def largest_eigenvalue(x):
    """The largest eigenvalue of x @ x.T: O(n^3) work on Node's tensor, read in place."""
    gram = x @ x.T
    return {"value": round(float(np.linalg.eigvalsh(gram)[-1]), 3), "pid": os.getpid()}
