"""file:// cameras: a video the test writes (through GStreamer and through OpenCV), a still
image, and a folder of images."""

import numpy as np
import pytest
from camera_standins import needs_gstreamer, no_leaked_threads

import hal.camera
from hal.camera import CameraError, EndOfStream

cv2 = pytest.importorskip("cv2", reason="file:// tests write their media with OpenCV")
pytestmark = pytest.mark.usefixtures("no_leaked_threads")
assert no_leaked_threads  # the fixture is used through pytestmark

FRAMES = 12
BACKENDS = [pytest.param("gstreamer", marks=needs_gstreamer), "opencv"]


def level(frame):
    return float(frame.image.mean())


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """An MJPG .avi, 160x120 at 50 fps, whose frame i is a flat gray of 20 * i."""
    path = str(tmp_path_factory.mktemp("media") / "ramp.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 50, (160, 120))
    assert writer.isOpened(), "OpenCV cannot write MJPG .avi here"
    for i in range(FRAMES):
        writer.write(np.full((120, 160, 3), 20 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def folder(tmp_path):
    for i, name in enumerate(["a.png", "b.jpg", "c.png"]):
        cv2.imwrite(str(tmp_path / name), np.full((30, 40, 3), 60 * (i + 1), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image: skipped")
    return tmp_path


@pytest.mark.parametrize("backend", BACKENDS)
def test_video_plays_forward_and_ends_cleanly(video, backend):
    with hal.camera.open("file://" + video, backend=backend) as camera:
        frames = list(camera)  # iteration stops at the end of the file
        with pytest.raises(EndOfStream, match="has no more frames"):
            camera.read(timeout=1)
    levels = [level(f) for f in frames]
    assert frames[0].image.shape == (120, 160, 3)
    assert levels == sorted(levels) and len(set(np.round(levels))) == len(levels)
    assert levels[-1] == pytest.approx(20 * (FRAMES - 1), abs=3)  # the last frame is not lost
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})


@pytest.mark.parametrize("backend", BACKENDS)
def test_video_loops_when_asked_and_resizes(video, backend):
    uri = "file://" + video + "?loop=1"
    with hal.camera.open(uri, width=80, height=60, backend=backend) as camera:
        levels = [level(camera.read(timeout=5)), level(camera.read(timeout=5))]
        while levels[-1] >= levels[-2]:  # until a darker frame: the video started again
            levels.append(level(camera.read(timeout=5)))
            assert len(levels) < 3 * FRAMES, "the video did not loop"
        assert camera.read(timeout=5).image.shape == (60, 80, 3)


def test_folder_of_images_plays_in_name_order_then_ends(folder):
    with hal.camera.open(f"file://{folder}?fps=100") as camera:
        levels = [level(frame) for frame in camera]
    assert levels[-1] == pytest.approx(180, abs=2)
    assert levels == sorted(levels) and set(np.round(levels)) <= {60, 120, 180}


def test_still_image_gives_one_frame_or_loops(folder):
    with hal.camera.open(f"file://{folder}/b.jpg", width=20, height=15) as camera:
        frames = list(camera)
    assert len(frames) == 1 and frames[0].image.shape == (15, 20, 3)
    assert level(frames[0]) == pytest.approx(120, abs=2)


def test_looping_still_image_keeps_delivering_new_frames(folder):
    with hal.camera.open(f"file://{folder}/a.png?loop=1&fps=200") as camera:
        frames = [camera.read(timeout=5) for _ in range(3)]
    assert [f.seq for f in frames] == sorted({f.seq for f in frames})
    assert [level(f) for f in frames] == [60, 60, 60]


def test_missing_path_empty_folder_and_unreadable_image_are_clear_errors(tmp_path):
    with pytest.raises(CameraError, match=r"camera file:///nowhere/x.mp4: /nowhere/x.mp4 does not"):
        hal.camera.open("file:///nowhere/x.mp4")
    with pytest.raises(CameraError, match=r"has no images \(looked for .jpg .jpeg .png"):
        hal.camera.open(f"file://{tmp_path}")
    (tmp_path / "broken.png").write_text("not a png")
    with hal.camera.open(f"file://{tmp_path}/broken.png") as camera, pytest.raises(
        CameraError, match=r"broken\.png is not an image OpenCV can read"
    ):
        camera.read(timeout=5)
