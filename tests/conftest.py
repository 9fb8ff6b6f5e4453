import tempfile

import pytest
import zmq


@pytest.fixture(autouse=True)
def ipc_dir(monkeypatch):
    """Each test gets its own ipc root, so tests never see each other's sockets."""
    d = tempfile.mkdtemp(prefix="nbt-")  # short: ipc paths must fit in 107 bytes
    monkeypatch.setenv("NANOBOT_IPC_DIR", d)
    yield d


@pytest.fixture(autouse=True)
def shm_dir(monkeypatch, tmp_path_factory):
    """Each test gets its own directory for shared-memory slot files (nanobot.slots)."""
    d = str(tmp_path_factory.mktemp("shm"))
    monkeypatch.setenv("NANOBOT_SHM_DIR", d)
    yield d


@pytest.fixture
def ctx():
    c = zmq.Context()
    yield c
    c.destroy(linger=0)


def wait_for(predicate, timeout=10.0, poll=None):
    """Wait until predicate() is true, driving `poll` (e.g. a subscriber's drain) meanwhile.

    Only for waiting on other processes or ZeroMQ's background threads, where no event is
    available to wait on; fails the test at the timeout.
    """
    import time

    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not met within %.0f s" % timeout)
        if poll is not None:
            poll()
        time.sleep(0.005)
    return True
