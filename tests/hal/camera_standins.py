"""Stand-ins and helpers shared by the camera tests (not a test module)."""

import queue
import threading
import time

import numpy as np
import pytest

from hal.camera import CameraError, EndOfStream, Source
from hal.camera.gst import available as gst_available

needs_gstreamer = pytest.mark.skipif(
    not gst_available(),
    reason="GStreamer through PyGObject (gi) cannot be imported here; "
    "tools/test installs it (Debian GStreamer packages + pip PyGObject)",
)


@pytest.fixture
def no_leaked_threads():
    """Fail a test that leaves a Python thread running after it ends."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


def wait_until(condition, timeout=5.0):
    """Poll `condition` until true; fail after `timeout` s (a deadline, not a synchronisation
    delay: the test goes on the moment the condition holds)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"condition not met within {timeout} s"
        threading.Event().wait(0.002)


def image(value, width=8, height=6):
    return np.full((height, width, 3), value, np.uint8)


class ScriptedSourceStandin(Source):
    """A Source driven by the test: each grab() takes the next step the test put().

    Steps: an int (a frame filled with it), "drop" (the device fails), "end" (end of stream).
    open() fails while `failing_opens` > 0, counting down. Records opens and closes.
    """

    def __init__(self, live=True):
        self.live = live
        self.steps = queue.Queue()
        self.failing_opens = 0
        self.opens = self.closes = 0
        self.is_open = False

    def put(self, *steps):
        for step in steps:
            self.steps.put(step)

    def open(self):
        if self.failing_opens > 0:
            self.failing_opens -= 1
            raise CameraError("no such device")
        self.opens += 1
        self.is_open = True

    def grab(self, timeout):
        assert self.is_open, "grab() on a closed source"
        try:
            step = self.steps.get(timeout=timeout)
        except queue.Empty:
            return None
        if step == "drop":
            raise CameraError("USB unplugged")
        if step == "end":
            raise EndOfStream("end of file")
        return image(step), 1000 + step

    def close(self):
        self.closes += int(self.is_open)
        self.is_open = False
