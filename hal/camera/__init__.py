"""Cameras: one URI scheme for CSI, USB, files, streams, test patterns and simulated worlds.

    import hal.camera

    with hal.camera.open("csi://0", width=640, height=480) as camera:
        for image, stamp, seq in camera:        # BGR numpy array, capture time (ns), frame number
            ...

Schemes: csi://N, v4l2:///dev/videoN, file://PATH, rtsp://HOST/PATH, test://PATTERN,
sim://NAME (see hal.camera.uri for their options, docs/hal-camera.md for the whole story).
A camera is read on a background thread that keeps the newest frame only; read() never
returns a frame twice; a camera that drops out is reopened with backoff.
"""

from . import sim
from .backends import open
from .camera import Camera
from .errors import CameraClosed, CameraError, CameraTimeout, CameraURIError, EndOfStream
from .frame import Frame
from .source import Source
from .uri import SCHEMES

__all__ = [
    "SCHEMES",
    "Camera",
    "CameraClosed",
    "CameraError",
    "CameraTimeout",
    "CameraURIError",
    "EndOfStream",
    "Frame",
    "Source",
    "open",
    "sim",
]
