"""What a python-shell worker usually is: JSON lines in on stdin, JSON lines out on stdout."""
import json
import sys

import numpy as np

for line in sys.stdin:
    req = json.loads(line)
    fn = req["fn"]
    if fn == "empty":
        res = None
    elif fn == "first":
        res = float(req["args"][0][0])
    elif fn == "total":
        res = float(np.asarray(req["args"][0], dtype=np.float32).sum(dtype=np.float64))
    else:
        res = {"error": "no such function %s" % fn}
    sys.stdout.write(json.dumps(res) + "\n")
    sys.stdout.flush()
