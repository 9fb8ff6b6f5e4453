"""sim:// cameras: the registry simulated worlds plug into, and the built-in sim://counter."""

import logging

import numpy as np
import pytest
from camera_standins import no_leaked_threads, wait_until

import hal.camera
from hal.camera import CameraURIError, sim

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
assert no_leaked_threads  # the fixture is used through pytestmark


@pytest.fixture
def registry():
    names = []

    def register(name, source):
        names.append(name)
        sim.register(name, source)

    yield register
    for name in names:
        sim.unregister(name)


def test_counter_frames_carry_their_number_at_the_size_asked(caplog):
    caplog.set_level(logging.INFO, logger="hal.camera")
    with hal.camera.open("sim://counter", width=32, height=24, fps=200) as camera:
        frames = [camera.read(timeout=5) for _ in range(3)]
    for frame in frames:
        assert frame.image.shape == (24, 32, 3)
        assert (frame.image == frame.seq % 256).all()
    assert caplog.records[0].getMessage() == (
        "camera sim://counter: simulated camera 'counter' (Counter(32x24 at 200 fps))"
    )


def test_a_registered_callable_is_read_with_its_own_stamps(registry):
    stamps = iter(range(10**9, 2 * 10**9, 10**6))
    registry("belt", lambda: (np.full((6, 8, 3), 9, np.uint8), next(stamps)))
    with hal.camera.open("sim://belt") as camera:
        frame = camera.read(timeout=5)
    assert frame.image.shape == (6, 8, 3) and frame.image[0, 0, 0] == 9
    assert 10**9 <= frame.stamp < 2 * 10**9 and (frame.stamp - 10**9) % 10**6 == 0


class WorldCamera:
    """What a sims/ adapter looks like: read() renders the next frame; open/close hooks."""

    def __init__(self):
        self.calls = []

    def open(self):
        self.calls.append("open")

    def read(self):
        return np.zeros((6, 8, 3), np.uint8), None

    def close(self):
        self.calls.append("close")


def test_a_registered_object_is_opened_read_resized_and_closed(registry):
    world = WorldCamera()
    registry("world", world)
    with hal.camera.open("sim://world", width=16, height=12) as camera:
        frame = camera.read(timeout=5)
    assert frame.image.shape == (12, 16, 3)
    assert world.calls == ["open", "close"]


def test_a_source_returning_a_bad_frame_drops_out_and_says_why(registry, caplog):
    registry("bad", lambda: (np.zeros((4, 4), np.float32), None))
    with hal.camera.open("sim://bad"):
        wait_until(lambda: "dropped out" in caplog.text)
    assert (
        "camera sim://bad dropped out (sim camera 'bad' returned (4, 4); "
        "a frame is a BGR uint8 array of shape (h, w, 3)); reopening" in caplog.text
    )


def test_unknown_name_lists_the_registered_ones(registry):
    registry("conveyor", WorldCamera())
    with pytest.raises(CameraURIError) as caught:
        hal.camera.open("sim://belt")
    assert str(caught.value).startswith(
        "no sim camera is registered as 'belt'; registered: conveyor, counter "
    )
    sim.unregister("conveyor")
    assert "conveyor" not in sim.registered()


@pytest.mark.parametrize(
    "name, source, error",
    [
        ("a/b", WorldCamera(), "a sim camera name is a plain word like 'conveyor', got 'a/b'"),
        ("", WorldCamera(), "a sim camera name is a plain word"),
        ("x", 42, "a sim camera source is a callable or has a read() method; got 42"),
    ],
)
def test_register_rejects_bad_names_and_sources(name, source, error):
    with pytest.raises((ValueError, TypeError)) as caught:
        sim.register(name, source)
    assert error in str(caught.value)
