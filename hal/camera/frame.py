"""Frame: one captured image with its capture time and its place in the stream."""

import time
from collections import namedtuple

import numpy as np

from .errors import CameraError


class Frame(namedtuple("Frame", "image stamp seq")):
    """A captured frame; unpacks as ``image, stamp, seq = camera.read()``.

    image: BGR pixels, a numpy array of shape (height, width, 3) and dtype uint8.
    stamp: capture time in nanoseconds since the Unix epoch (wall clock).
    seq:   the frame's number in the stream since the camera was opened, from 0; a gap between
           two reads says how many frames arrived meanwhile and were overtaken by newer ones.
    """

    __slots__ = ()

    @property
    def height(self):
        return self.image.shape[0]

    @property
    def width(self):
        return self.image.shape[1]


def fit(image, width=None, height=None):
    """Return a BGR uint8 `image` resized to width x height (either may be None: keep it)."""
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    want = (height or image.shape[0], width or image.shape[1])
    if image.shape[:2] == want:
        return image
    try:
        import cv2
    except ImportError:
        raise CameraError(
            f"resizing a {image.shape[1]}x{image.shape[0]} frame to {want[1]}x{want[0]} needs "
            "OpenCV; install opencv-python-headless or ask for the size the source delivers"
        ) from None
    return cv2.resize(image, (want[1], want[0]), interpolation=cv2.INTER_AREA)


def wall_ns():
    """Now, in nanoseconds since the Unix epoch (time.time_ns() is not in Python 3.6)."""
    return int(time.time() * 1e9)
