"""Which backend serves which URI, and what happens where GStreamer (PyGObject) is absent:
these run with or without `gi`, by hiding it."""

import logging

import numpy as np
import pytest
from camera_standins import no_leaked_threads

import hal.camera
from hal.camera import CameraError, gst

pytestmark = pytest.mark.usefixtures("no_leaked_threads")
assert no_leaked_threads  # the fixture is used through pytestmark

NO_GI = "ImportError: No module named 'gi'"


@pytest.fixture
def without_gstreamer(monkeypatch):
    monkeypatch.setattr(gst, "_gst", [NO_GI])


@pytest.mark.parametrize("uri", ["csi://0", "test://ball", "rtsp://cam/live"])
def test_gstreamer_only_uris_say_what_to_install_when_gi_is_missing(without_gstreamer, uri):
    with pytest.raises(CameraError) as caught:
        hal.camera.open(uri)
    assert str(caught.value).startswith(
        f"camera {uri} needs GStreamer through PyGObject ({NO_GI}); install GStreamer and "
        "PyGObject: on JetPack `sudo apt-get install python3-gi"
    )


def test_asking_for_gstreamer_without_gi_is_refused_not_substituted(without_gstreamer):
    with pytest.raises(CameraError, match=r"camera v4l2://0 needs GStreamer through PyGObject"):
        hal.camera.open("v4l2://0", backend="gstreamer")


def test_video_without_gi_is_read_by_opencv_and_the_choice_is_logged(
    without_gstreamer, tmp_path, caplog
):
    cv2 = pytest.importorskip("cv2")
    path = str(tmp_path / "two.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 100, (32, 24))
    for value in (50, 150):
        writer.write(np.full((24, 32, 3), value, np.uint8))
    writer.release()
    caplog.set_level(logging.INFO, logger="hal.camera")
    with hal.camera.open("file://" + path) as camera:
        last = list(camera)[-1]
    assert float(last.image.mean()) == pytest.approx(150, abs=3)
    assert caplog.records[0].getMessage() == f"camera file://{path}: OpenCV VideoCapture {path}"


def test_v4l2_without_gi_goes_through_opencv_and_names_the_device(without_gstreamer):
    pytest.importorskip("cv2")
    with pytest.raises(CameraError, match="OpenCV could not open /dev/video99"):
        hal.camera.open("v4l2:///dev/video99", format="mjpg")
