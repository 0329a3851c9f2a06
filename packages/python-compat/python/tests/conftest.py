"""Shared fixtures: every CPython on the machine, and blocks that are always unlinked."""
import gc
import glob
import os
import subprocess
import sys
from multiprocessing import shared_memory

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE_ROOT = os.path.dirname(HERE)


def _pythons():
    """pyenv's CPython 3.8+ (every minor the machine has), oldest first."""
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    found = {}
    for exe in sorted(glob.glob(os.path.join(root, "versions", "3.*", "bin", "python"))):
        out = subprocess.run([exe, "-c", "import sys; print(sys.version_info[1])"], capture_output=True, text=True)
        minor = int(out.stdout.strip())
        if minor >= 8:
            found[minor] = exe
    return [found[m] for m in sorted(found)]


PYTHONS = _pythons()


def run_python(exe, code, check=True):
    """Run code in another interpreter with shmbridge importable; return the CompletedProcess."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([exe, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s" % (exe, r.returncode, r.stderr))
    return r


def exists(name):
    return os.path.exists("/dev/shm/" + name)


@pytest.fixture
def cleanup():
    """Blocks to close, and unlink if still there, after the test: ``cleanup.append(shm)``."""
    made = []
    yield made
    gc.collect()  # arrays and tables over the blocks give their buffer exports back first
    for shm in made:
        shm.close()
        if exists(shm.name):
            shm.unlink()


@pytest.fixture
def block(cleanup):
    """A block made here (tracked by this process), unlinked after the test if still there."""

    def make(size=64):
        shm = shared_memory.SharedMemory(create=True, size=size)
        cleanup.append(shm)
        return shm

    return make


def pytest_configure(config):
    if len(PYTHONS) < 6:
        raise pytest.UsageError("these tests need pyenv's CPython 3.8-3.13; found %s" % PYTHONS)
    sys.path.insert(0, PACKAGE_ROOT)
