"""What a notebook cell does to look at a running Node process's tensor.

    PYTHONPATH=packages/python-compat/python .venv/bin/python3 examples/notebook.py psm_1a2b3c4d

(or after `.venv/bin/pip install packages/python-compat/python`; from npm: PYTHONPATH="$(npx shmbridge python-path)")
"""
import sys

import shmbridge

a = shmbridge.ndarray(sys.argv[1])  # zero-copy: this is Node's memory
print(f"notebook: {a.dtype} {a.shape}, sum={a.sum()}, row 1={a[1].tolist()}")
a[0] = -1  # Node sees this write
