"""The Camera's reader thread, newest-frame slot, reconnect backoff and pacing, driven by a
scripted stand-in source (no GStreamer, no OpenCV, no real waits)."""

import logging
import threading

import pytest
from camera_standins import ScriptedSourceStandin, no_leaked_threads, wait_until

from hal.camera import Camera, CameraClosed, CameraError, CameraTimeout, EndOfStream, Frame
from hal.camera.backoff import Backoff
from hal.camera.latest import LatestFrame
from hal.camera.pacer import Pacer

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
assert no_leaked_threads  # the fixture is used through pytestmark


class RecordedSleep:
    """Stands in for the camera's backoff wait: records each delay and returns at once."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)
        return False


def test_standin_frames_arrive_in_order_with_their_stamps():
    source = ScriptedSourceStandin()
    with Camera(source, name="standin://0") as camera:
        source.put(7)
        first = camera.read(timeout=2)
        source.put(8)
        second = camera.read(timeout=2)
    assert (first.seq, int(first.image[0, 0, 0]), first.stamp) == (0, 7, 1007)
    assert (second.seq, int(second.image[0, 0, 0]), second.stamp) == (1, 8, 1008)
    assert source.closes == 1


def test_standin_slow_reader_gets_the_newest_frame_not_a_backlog():
    source = ScriptedSourceStandin()
    with Camera(source) as camera:
        source.put(1)
        assert camera.read(timeout=2).seq == 0
        source.put(2, 3, 4, 5)  # four frames arrive while the reader is busy elsewhere
        wait_until(lambda: camera.newest.seq == 4)
        frame = camera.read(timeout=2)
        assert (frame.seq, int(frame.image[0, 0, 0])) == (4, 5)  # seq 1..3 were overtaken
        with pytest.raises(CameraTimeout):
            camera.read(timeout=0.02)  # never the same frame twice


def test_standin_timeout_names_the_camera():
    camera = Camera(ScriptedSourceStandin(), name="csi://0")
    with camera, pytest.raises(
        CameraTimeout, match=r"no new frame from camera csi://0 within 0\.01 s"
    ):
        camera.read(timeout=0.01)


def test_standin_live_source_that_drops_out_is_reopened_with_backoff(caplog):
    caplog.set_level(logging.INFO, logger="hal.camera")
    source, sleep = ScriptedSourceStandin(), RecordedSleep()
    camera = Camera(source, name="v4l2:///dev/video0", backoff=Backoff(0.5, 2, 4), sleep=sleep)
    with camera:
        source.put(1)
        assert camera.read(timeout=2).seq == 0
        source.failing_opens = 3
        source.put("drop", 2)
        frame = camera.read(timeout=2)
        assert (frame.seq, int(frame.image[0, 0, 0])) == (1, 2)
        assert sleep.delays == [0.5, 1.0, 2.0, 4]  # three failed reopens, the fourth works
        assert camera.reconnects == 1
        source.put("drop", 3)  # frames flowed in between: the backoff starts again
        assert camera.read(timeout=2).seq == 2
        assert sleep.delays[4:] == [0.5]
    assert (source.opens, source.closes) == (3, 3)
    messages = [r.getMessage() for r in caplog.records]
    assert "camera v4l2:///dev/video0 dropped out (USB unplugged); reopening" in messages
    assert (
        "camera v4l2:///dev/video0: reopen attempt 1 failed (no such device); next in 1 s"
        in messages
    )
    assert "camera v4l2:///dev/video0 reopened after 4 attempt(s)" in messages


def test_standin_live_source_at_end_of_stream_is_reopened():
    source, sleep = ScriptedSourceStandin(), RecordedSleep()
    with Camera(source, sleep=sleep) as camera:
        source.put("end", 4)
        assert int(camera.read(timeout=2).image[0, 0, 0]) == 4
    assert sleep.delays == [0.5]


def test_standin_finite_source_ends_after_its_last_frame():
    source = ScriptedSourceStandin(live=False)
    source.put(1, 2, "end")
    with Camera(source, name="file://a.avi") as camera:
        wait_until(lambda: camera.newest is not None and camera.newest.seq == 1)
        assert int(camera.read(timeout=2).image[0, 0, 0]) == 2  # the last frame is not lost
        with pytest.raises(EndOfStream, match=r"camera file://a\.avi has no more frames"):
            camera.read(timeout=2)


def test_standin_iterating_yields_each_frame_then_stops():
    source = ScriptedSourceStandin(live=False)
    source.put(10)
    values = []
    with Camera(source) as camera:
        for frame in camera:
            assert isinstance(frame, Frame)
            values.append(int(frame.image[0, 0, 0]))
            source.put(values[-1] + 1 if len(values) < 3 else "end")
    assert values == [10, 11, 12]


def test_standin_finite_source_failure_is_raised_to_the_reader():
    source = ScriptedSourceStandin(live=False)
    source.put("drop")
    camera = Camera(source, name="file://broken.mp4")
    with camera, pytest.raises(CameraError, match=r"camera file://broken\.mp4 failed: USB unplug"):
        camera.read(timeout=2)


def test_standin_first_open_failure_is_raised_and_starts_no_thread():
    source = ScriptedSourceStandin()
    source.failing_opens = 1
    with pytest.raises(CameraError, match="no such device"):
        Camera(source)


def test_standin_close_wakes_a_blocked_reader_stops_the_thread_and_closes_the_source():
    source = ScriptedSourceStandin()
    camera = Camera(source)
    raised = []
    reader = threading.Thread(target=lambda: raised.append(_error_of(camera.read, 10)))
    reader.start()
    camera.close()
    reader.join(5)
    assert [type(e) for e in raised] == [CameraClosed]
    assert not camera._thread.is_alive() and source.closes == 1
    camera.close()  # idempotent
    with pytest.raises(CameraClosed, match="closed; open it again"):
        camera.read()
    assert repr(camera).endswith(" closed>")


def test_standin_close_during_backoff_returns_promptly():
    source = ScriptedSourceStandin()
    camera = Camera(source, backoff=Backoff(initial=3600, maximum=3600))
    source.put("drop")
    wait_until(lambda: not source.is_open)  # now waiting an hour before reopening
    camera.close(timeout=5)
    assert not camera._thread.is_alive()


def _error_of(call, *args):
    try:
        call(*args)
    except Exception as exc:
        return exc
    return None


# LatestFrame, Backoff and Pacer on their own.


def test_latest_frame_hands_out_the_newest_once():
    slot = LatestFrame()
    for seq in range(5):
        slot.put(Frame(None, seq, seq))
    assert slot.take(0).seq == 4
    assert slot.take(0) is None
    slot.put(Frame(None, 5, 5))
    assert slot.take(0).seq == 5


def test_latest_frame_wakes_a_waiting_taker():
    slot, got, waiting = LatestFrame(), [], threading.Event()

    def take():
        waiting.set()
        got.append(slot.take(10))

    taker = threading.Thread(target=take)
    taker.start()
    waiting.wait(5)
    slot.put(Frame(None, 0, 0))
    taker.join(5)
    assert [f.seq for f in got] == [0]


def test_latest_frame_finish_raises_after_the_last_frame_is_taken():
    slot = LatestFrame()
    slot.put(Frame(None, 0, 0))
    slot.finish(EndOfStream("done"))
    slot.finish(CameraClosed("later reasons do not replace the first"))
    assert slot.take(0).seq == 0
    for _ in range(2):
        with pytest.raises(EndOfStream, match="done"):
            slot.take(0)


def test_backoff_grows_to_its_maximum_and_resets():
    backoff = Backoff(initial=0.25, factor=3, maximum=2)
    assert [backoff.next() for _ in range(4)] == [0.25, 0.75, 2, 2]
    backoff.reset()
    assert backoff.upcoming == 0.25


@pytest.mark.parametrize("args", [(0, 2, 1), (2, 2, 1), (1, 0.5, 4)])
def test_backoff_rejects_nonsense(args):
    with pytest.raises(ValueError, match="backoff needs 0 < initial <= maximum and factor >= 1"):
        Backoff(*args)


class VirtualTime:
    def __init__(self, now=100.0):
        self.now, self.sleeps = now, []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_pacer_keeps_the_rate_and_does_not_burst_after_falling_behind():
    time = VirtualTime()
    pacer = Pacer(10, clock=time.clock, sleep=time.sleep)
    assert pacer.wait(1) and pacer.wait(1) and pacer.wait(1)
    assert time.sleeps == [0.1, 0.1]  # first frame at once, then one every 0.1 s
    time.now += 5  # the consumer stalled for 5 s
    assert pacer.wait(1) and pacer.wait(1)
    assert time.sleeps == [0.1, 0.1, 0.1]  # one frame at once, then the rate again
    assert not pacer.wait(0.04)  # not due within the timeout: say so, having waited it
    assert time.sleeps[-1] == 0.04
    assert pacer.wait(1) and time.sleeps[-1] == 0.06
