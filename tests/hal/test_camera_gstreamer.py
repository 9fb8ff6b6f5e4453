"""The GStreamer path for real: videotestsrc through PyGObject's appsink into numpy."""

import logging
import time

import pytest
from camera_standins import needs_gstreamer, no_leaked_threads, wait_until

import hal.camera
from hal.camera import Camera, CameraError, pipelines
from hal.camera.backoff import Backoff
from hal.camera.gst import GstSource

pytestmark = [needs_gstreamer, pytest.mark.usefixtures("no_leaked_threads")]
assert no_leaked_threads  # the fixture is used through pytestmark

# The CSI pipeline with the NVIDIA elements swapped for their CPU twins: the same caps chain
# (NV12 at the sensor size, scaled and converted to BGRx, then BGR into the newest-only sink).
CSI_STANDIN_160x120 = (
    "videotestsrc is-live=true ! "
    "video/x-raw,width=1280,height=720,framerate=30/1,format=NV12 ! "
    "videoconvert ! videoscale ! video/x-raw,width=160,height=120,format=BGRx ! "
    "videoconvert ! video/x-raw,format=BGR ! appsink drop=true max-buffers=1 sync=false"
)


def csi_standin(width, height):
    return (
        pipelines.csi(0, width=width, height=height)
        .replace("nvarguscamerasrc sensor-id=0", "videotestsrc is-live=true")
        .replace("(memory:NVMM)", "")
        .replace("nvvidconv flip-method=0", "videoconvert ! videoscale")
    )


def test_test_pattern_frames_are_bgr_numpy_with_rising_seq_and_fresh_stamps(caplog):
    caplog.set_level(logging.INFO, logger="hal.camera")
    with hal.camera.open("test://ball", width=160, height=120, fps=60) as camera:
        frames = [camera.read(timeout=5) for _ in range(3)]
    for frame in frames:
        assert frame.image.shape == (120, 160, 3) and frame.image.dtype == "uint8"
        assert frame.image.flags.writeable and (frame.width, frame.height) == (160, 120)
        assert abs(time.time() - frame.stamp / 1e9) < 5
    assert frames[0].seq < frames[1].seq < frames[2].seq
    assert frames[0].stamp < frames[1].stamp < frames[2].stamp
    assert caplog.records[0].getMessage() == (
        "camera test://ball: GStreamer (PyGObject appsink): "
        + pipelines.test_pattern("ball", 160, 120, 60)
    )


def test_slow_reader_gets_the_newest_frame_not_a_backlog():
    with hal.camera.open("test://snow", width=160, height=120, fps=60) as camera:
        first = camera.read(timeout=5)
        wait_until(lambda: camera.newest.seq >= first.seq + 4)  # the reader was "busy"
        later = camera.read(timeout=5)
    assert later.seq >= first.seq + 4  # a queue would have handed out first.seq + 1
    assert later.stamp - first.stamp >= 3 * 1e9 / 60  # and it is 4 frame periods younger


def test_csi_standin_pipeline_runs_the_csi_caps_chain_into_bgr():
    assert csi_standin(160, 120) == CSI_STANDIN_160x120
    with Camera(GstSource(CSI_STANDIN_160x120), name="csi-standin") as camera:
        image = camera.read(timeout=5).image
    assert image.shape == (120, 160, 3)
    bars = [image[60, int((i + 0.5) * 160 / 7)].tolist() for i in range(7)]
    # SMPTE bars, left to right: white, yellow, cyan, green, magenta, red, blue, in BGR order.
    expected = [[1, 1, 1], [0, 1, 1], [1, 1, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1], [1, 0, 0]]
    assert [[round(c / 255) for c in bar] for bar in bars] == expected


def test_live_pipeline_that_ends_is_reopened_and_frames_resume(caplog):
    ending = (
        "videotestsrc is-live=true num-buffers=3 ! "
        + pipelines.test_pattern("black", 64, 48, 60).split(" ! ", 1)[1]
    )
    camera = Camera(GstSource(ending), name="flaky", backoff=Backoff(initial=0.01))
    with camera:
        wait_until(lambda: camera.newest is not None and camera.newest.seq >= 6, timeout=10)
    assert camera.reconnects >= 1
    assert "camera flaky dropped out (end of stream); reopening" in caplog.text


def test_pipeline_that_cannot_be_built_fails_at_open_with_the_reason():
    with pytest.raises(CameraError, match=r'GStreamer cannot build .*: no element "nvvidconv"'):
        Camera(GstSource("videotestsrc ! nvvidconv ! appsink"))


def test_missing_v4l2_device_fails_at_open_with_gstreamers_reason():
    with pytest.raises(CameraError, match="Cannot identify device '/dev/video99'"):
        hal.camera.open("v4l2:///dev/video99", backend="gstreamer")


def test_csi_without_argus_fails_at_open_naming_the_missing_element():
    with pytest.raises(CameraError, match='no element "nvarguscamerasrc"'):
        hal.camera.open("csi://0")
