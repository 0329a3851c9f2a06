"""shmbridge.attach: never unlinked by Python's resource tracker, on every version."""
import pytest

from conftest import PYTHONS, exists, run_python


@pytest.mark.parametrize("exe", PYTHONS, ids=lambda p: p.split("/")[-3])
def test_attached_block_survives_the_attaching_process(exe, block):
    shm = block()
    r = run_python(exe, """
import shmbridge
s = shmbridge.attach(%r)
s.buf[0] = 7
print(type(s).__mro__[1].__module__, s.name, s.size)
s.close()
""" % shm.name)
    assert r.stdout.split() == ["multiprocessing.shared_memory", shm.name, str(shm.size)]
    assert r.stderr == ""  # no resource tracker warning about leaked blocks
    assert exists(shm.name)
    assert shm.buf[0] == 7


@pytest.mark.parametrize("exe", [p for p in PYTHONS if "/3.13" not in p], ids=lambda p: p.split("/")[-3])
def test_control_plain_attach_before_313_is_unlinked_at_exit(exe, block):
    # The bug shmbridge.attach avoids (bpo-39959): proves the test above can fail.
    shm = block()
    run_python(exe, """
from multiprocessing import shared_memory
shared_memory.SharedMemory(%r).close()
""" % shm.name)
    assert not exists(shm.name)


@pytest.mark.parametrize("exe", PYTHONS, ids=lambda p: p.split("/")[-3])
def test_unlink_through_attach_is_quiet(exe, block):
    shm = block()
    r = run_python(exe, """
import shmbridge
s = shmbridge.attach(%r)
s.close()
s.unlink()
""" % shm.name)
    assert r.stderr == ""
    assert not exists(shm.name)


def test_attach_errors(block):
    import shmbridge

    with pytest.raises(FileNotFoundError):
        shmbridge.attach("shmbridge_no_such_block")
    for bad in ["", "a/b", "x\0y", 5]:
        with pytest.raises(ValueError):
            shmbridge.attach(bad)


def test_attached_block_pickles_as_an_untracked_attach(block):
    import pickle

    import shmbridge

    shm = block()
    a = shmbridge.attach(shm.name)
    b = pickle.loads(pickle.dumps(a))
    assert isinstance(b, shmbridge.UntrackedSharedMemory) and b.name == shm.name
    b.close()
    a.close()


@pytest.mark.parametrize("exe", PYTHONS, ids=lambda p: p.split("/")[-3])
def test_shareable_list_attach_survives_and_reads(exe):
    # The list is made by the interpreter under test (its own layout: 3.8 differs).
    r = run_python(exe, """
import shmbridge, subprocess, sys
from multiprocessing import shared_memory
made = shared_memory.ShareableList(['howdy', 42, 2.5, None, True])
code = "import shmbridge, sys; sl = shmbridge.shareable_list(sys.argv[1]); print(list(sl)); sl[1] = 43; sl.shm.close()"
out = subprocess.run([sys.executable, "-c", code, made.shm.name], capture_output=True, text=True)
print(out.stdout.strip(), out.stderr.strip() == "", made[1])
made.shm.close(); made.shm.unlink()
""")
    assert r.stdout.strip() == "['howdy', 42, 2.5, None, True] True 43"


@pytest.mark.parametrize("exe", PYTHONS, ids=lambda p: p.split("/")[-3])
def test_create_untracked_hands_the_block_on(exe):
    r = run_python(exe, """
import shmbridge
s = shmbridge._attach.create(64, track=False)
s.buf[0] = 9
print(s.name)
s.close()
""")
    name = r.stdout.strip()
    try:
        assert r.stderr == ""
        assert exists(name)  # this Python exited; its tracker left the block to the new owner
    finally:
        import _posixshmem
        _posixshmem.shm_unlink("/" + name)
