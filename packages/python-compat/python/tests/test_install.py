"""The package installs with pip (offline, from the machine's package index) and works from there."""
import os
import shutil
import subprocess
import sys

from conftest import PACKAGE_ROOT


def test_pip_install_then_import(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(PACKAGE_ROOT, src, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    target = tmp_path / "site"
    # PIP_RETRIES reaches the pip that installs the build dependencies too (a
    # flag does not): without it, that one waits ~10 s on indexes it cannot reach.
    r = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--retries", "0", "--disable-pip-version-check", "-q", "--no-deps", "--target", str(target), str(src)],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, PIP_RETRIES="0"),
    )
    assert r.returncode == 0, r.stderr
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run([sys.executable, "-c", "import shmbridge, sys; print(shmbridge.__version__, shmbridge.__file__)"], capture_output=True, text=True, env=env, cwd=str(tmp_path))
    version, path = out.stdout.split()
    assert version == "0.1.0"
    assert path.startswith(str(target))
