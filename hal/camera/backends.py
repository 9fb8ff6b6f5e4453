"""open(): which backend serves which URI, and the Camera that reads it.

| scheme  | served by                                                              |
|---------|------------------------------------------------------------------------|
| csi://  | GStreamer (nvarguscamerasrc), required                                 |
| v4l2:// | GStreamer (v4l2src, jpegdec for MJPG); OpenCV (CAP_V4L2) without it     |
| file:// | images and folders: OpenCV; videos: GStreamer (decodebin), else OpenCV |
| rtsp:// | GStreamer (rtspsrc + decodebin), required                              |
| test:// | GStreamer (videotestsrc), required                                     |
| sim://  | the source registered under that name (hal.camera.sim)                 |

``backend=gstreamer|opencv`` picks one for v4l2:// and file:// videos. The choice is logged.
"""

import logging
import os

from . import gst, pipelines, sim
from .camera import Camera
from .errors import CameraError
from .gst import GstSource
from .images import EXTENSIONS, ImageFiles
from .opencv import OpenCVSource
from .uri import parse

logger = logging.getLogger("hal.camera")


def open(uri, width=None, height=None, fps=None, **options):
    """Open the camera `uri` names and return a Camera already reading it.

    width, height and fps ask for a frame size and rate (each source's default otherwise);
    other options are those of the URI's scheme, as keywords or in the query string
    (``csi://0?flip=2``). A URI or option not understood raises CameraURIError listing what
    is; a camera that cannot be opened raises CameraError saying why.
    """
    spec = parse(uri, width=width, height=height, fps=fps, **options)
    source = _SOURCES[spec.scheme](spec)
    logger.info("camera %s: %s", spec.text, source.describe())
    return Camera(source, name=spec.text)


def _size(spec):
    return {name: spec.get(name) for name in ("width", "height", "fps")}


def _csi(spec):
    return _gstreamer(
        spec,
        pipelines.csi(
            spec.location,
            flip=spec.get("flip", 0),
            sensor_mode=spec.get("sensor_mode"),
            capture_width=spec.get("capture_width", 1280),
            capture_height=spec.get("capture_height", 720),
            **_size(spec),
        ),
    )


def _v4l2(spec):
    format = spec.get("format", "raw")
    if _use_gstreamer(spec):
        return _gstreamer(spec, pipelines.v4l2(spec.location, format=format, **_size(spec)))
    fourcc = "MJPG" if format == "mjpg" else None
    return OpenCVSource(spec.location, live=True, fourcc=fourcc, **_size(spec))


def _file(spec):
    path, loop = spec.location, spec.get("loop", False)
    if not os.path.exists(path):
        raise CameraError(f"camera {spec.text}: {os.path.abspath(path)} does not exist")
    if os.path.isdir(path) or path.lower().endswith(EXTENSIONS):
        return ImageFiles(path, loop=loop, **_size(spec))
    if _use_gstreamer(spec):
        return _gstreamer(spec, pipelines.video_file(path, **_size(spec)), live=False, loop=loop)
    return OpenCVSource(path, live=False, loop=loop, **_size(spec))


def _rtsp(spec):
    latency = spec.get("latency", 200)
    return _gstreamer(spec, pipelines.rtsp(spec.location, latency=latency, **_size(spec)))


def _test(spec):
    return _gstreamer(spec, pipelines.test_pattern(spec.location, **_size(spec)))


def _sim(spec):
    return sim.lookup(spec.location, **_size(spec))


def _gstreamer(spec, description, live=True, loop=False):
    gst.require(f"camera {spec.text}")  # names the URI, not the pipeline, if gi is missing
    return GstSource(description, live=live, loop=loop)


def _use_gstreamer(spec):
    """GStreamer if asked for or (unasked) installed; OpenCV if asked for or it is not."""
    backend = spec.get("backend")
    if backend is None:
        return gst.available()
    return backend == "gstreamer"


_SOURCES = {"csi": _csi, "v4l2": _v4l2, "file": _file, "rtsp": _rtsp, "test": _test, "sim": _sim}
