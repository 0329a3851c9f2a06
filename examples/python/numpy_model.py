"""A small numpy "model" that Node serves through a PythonWorker (examples/numpy-worker.ts).

An ordinary module: what runs at import runs once per worker (here: loading
the weights); each function is what Node calls. Arguments that are Node
Tensors arrive as numpy arrays over Node's memory: no copy either way.
"""
import time

import numpy as np

from shmbridge import worker

print("python: loading the model (once per worker)")
WEIGHTS = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]], dtype=np.float32)  # stands in for a file of weights


def normalize(x):
    """Scale each row of Node's tensor to unit length, in place."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    np.divide(x, np.where(norms == 0, 1, norms), out=x)


def predict(x):
    """x @ WEIGHTS into a new block: Node gets the block itself, not a copy."""
    out = worker.zeros((x.shape[0], WEIGHTS.shape[1]), np.float32)
    np.matmul(x, WEIGHTS, out=out)
    return out


def train(epochs, seconds_per_epoch=0.05):
    """A long job: reports progress, and stops when Node cancels it."""
    for epoch in range(1, epochs + 1):
        if worker.cancelled():
            print("python: training cancelled at epoch %d" % epoch)
            raise worker.Cancelled()
        time.sleep(seconds_per_epoch)  # one epoch of work
        worker.progress(epoch, epochs, "epoch %d" % epoch)
    return {"epochs": epochs, "loss": round(1.0 / epochs, 4)}
