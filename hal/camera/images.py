"""ImageFiles: a still image or a folder of images played as a video."""

import os

from .errors import CameraError, EndOfStream
from .frame import fit, wall_ns
from .opencv import require
from .pacer import Pacer
from .source import Source

#: The extensions taken from a folder (what cv2.imread reads everywhere).
EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


class ImageFiles(Source):
    """`path` (an image, or a folder whose images play in name order) at `fps` (default 30).

    With `loop` it starts again after the last image; without, it ends there.
    """

    live = False

    def __init__(self, path, width=None, height=None, fps=None, loop=False):
        self.path, self.width, self.height, self.loop = path, width, height, loop
        self.fps = fps or 30.0
        self._cv2 = require(f"reading images from {path}")
        self._files, self._next, self._pacer = [], 0, None

    def describe(self):
        return f"OpenCV imread of {self.path} at {self.fps:g} fps"

    def open(self):
        self._files = self._list()
        self._next = 0
        self._pacer = Pacer(self.fps)

    def grab(self, timeout):
        if self._next == len(self._files):
            if not self.loop:
                raise EndOfStream(f"end of {self.path}")
            self._next = 0
        if not self._pacer.wait(timeout):
            return None
        name = self._files[self._next]
        image = self._cv2.imread(name, self._cv2.IMREAD_COLOR)
        if image is None:
            raise CameraError(f"{name} is not an image OpenCV can read")
        self._next += 1
        return fit(image, self.width, self.height), wall_ns()

    def _list(self):
        if not os.path.isdir(self.path):
            return [self.path]
        files = sorted(
            os.path.join(self.path, name)
            for name in os.listdir(self.path)
            if name.lower().endswith(EXTENSIONS)
        )
        if not files:
            raise CameraError(
                f"folder {self.path} has no images (looked for {' '.join(EXTENSIONS)})"
            )
        return files
