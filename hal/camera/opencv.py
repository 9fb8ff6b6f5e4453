"""OpenCVSource: frames from cv2.VideoCapture, for V4L2 cameras and video files where
GStreamer through PyGObject is not installed."""

from .errors import CameraError, EndOfStream
from .frame import fit, wall_ns
from .pacer import Pacer
from .source import Source


def require(what):
    """The cv2 module, or CameraError saying that `what` needs it."""
    try:
        import cv2
    except ImportError as exc:
        raise CameraError(
            f"{what} needs OpenCV ({exc}); "
            "install opencv-python-headless, or GStreamer and PyGObject"
        ) from None
    return cv2


class OpenCVSource(Source):
    """A V4L2 device (live) or a video file (finite, played at its own frame rate).

    For a device, width/height/fps/fourcc are requested from the driver; frames of another
    size are resized. For a file, `loop` starts it again at its end.
    """

    def __init__(self, target, live, width=None, height=None, fps=None, fourcc=None, loop=False):
        self.target, self.live, self.loop = target, live, loop
        self.width, self.height, self.fps, self.fourcc = width, height, fps, fourcc
        self._cv2 = require(f"reading {target} without GStreamer")
        self._capture = self._pacer = None

    def describe(self):
        fourcc = f" ({self.fourcc})" if self.fourcc else ""
        return f"OpenCV VideoCapture {self.target}{fourcc}"

    def open(self):
        cv2 = self._cv2
        capture = (
            cv2.VideoCapture(self.target, cv2.CAP_V4L2)
            if self.live
            else cv2.VideoCapture(self.target)
        )
        if not capture.isOpened():
            capture.release()
            raise CameraError(f"OpenCV could not open {self.target}")
        if self.live:
            if self.fourcc:
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*self.fourcc))
            for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, self.width),
                                (cv2.CAP_PROP_FRAME_HEIGHT, self.height),
                                (cv2.CAP_PROP_FPS, self.fps)):  # fmt: skip
                if value:
                    capture.set(prop, value)
        else:
            self._pacer = Pacer(self.fps or capture.get(cv2.CAP_PROP_FPS) or 30.0)
        self._capture = capture

    def grab(self, timeout):
        if self._pacer is not None and not self._pacer.wait(timeout):
            return None
        ok, image = self._capture.read()
        if not ok and self.loop:
            self._capture.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self._capture.read()
        if not ok:
            if self.live:
                raise CameraError(f"{self.target} delivered no frame")
            raise EndOfStream(f"end of {self.target}")
        return fit(image, self.width, self.height), wall_ns()

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None
