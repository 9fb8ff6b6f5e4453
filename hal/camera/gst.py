"""GstSource: frames from a GStreamer pipeline through PyGObject's appsink.

PyGObject (``gi``) talks to the system's GStreamer directly, so this works whichever OpenCV is
installed: a pip-installed cv2 (built without GStreamer) does not matter here.
"""

import numpy as np

from .errors import CameraError, EndOfStream
from .frame import wall_ns
from .source import Source

INSTALL = (
    "install GStreamer and PyGObject: on JetPack `sudo apt-get install python3-gi "
    "gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0`; in a venv `pip install PyGObject` "
    "(needs libgirepository1.0-dev and libcairo2-dev)"
)
NONE = 2**64 - 1  # GST_CLOCK_TIME_NONE
SECOND = 10**9
_gst = []  # [Gst module] once loaded, [error text] if it cannot be


def available():
    """True if GStreamer can be used through PyGObject here."""
    return not isinstance(_load(), str)


def require(what):
    """The Gst module, or CameraError saying that `what` needs it and how to install it."""
    gst = _load()
    if isinstance(gst, str):
        raise CameraError(f"{what} needs GStreamer through PyGObject ({gst}); {INSTALL}")
    return gst


def _load():
    if not _gst:
        try:
            import gi

            gi.require_version("Gst", "1.0")
            from gi.repository import Gst

            Gst.init(None)
            _gst.append(Gst)
        except (ImportError, ValueError) as exc:
            _gst.append(f"{type(exc).__name__}: {exc}")
    return _gst[0]


class GstSource(Source):
    """A pipeline description ending in an appsink that delivers BGR frames.

    Live pipelines (cameras, streams) stamp frames with their capture time from the buffer's
    timestamp on the pipeline clock; files stamp them when they arrive. A finite pipeline
    with `loop` seeks back to the start at its end instead of ending.
    """

    def __init__(self, description, live=True, loop=False, open_timeout=5.0):
        self.description = description
        self.live, self.loop = live, loop
        self.open_timeout = open_timeout
        self._gst = require(f"the GStreamer pipeline `{description}`")
        self._pipeline = self._sink = self._bus = None

    def describe(self):
        return "GStreamer (PyGObject appsink): " + self.description

    def open(self):
        Gst = self._gst
        try:
            pipeline = Gst.parse_launch(self.description)
        except Exception as exc:  # GLib.Error: no such element, bad syntax
            raise CameraError(
                f"GStreamer cannot build `{self.description}`: {_message(exc)}"
            ) from None
        self._pipeline, self._bus = pipeline, pipeline.get_bus()
        self._sink = pipeline.iterate_sinks().next()[1]
        pipeline.set_state(Gst.State.PLAYING)
        result = pipeline.get_state(int(self.open_timeout * SECOND))[0]
        error = self._pop(Gst.MessageType.ERROR)
        if result == Gst.StateChangeReturn.FAILURE or error is not None:
            self.close()
            raise CameraError("GStreamer could not start: %s" % (error or "state change failed"))

    def grab(self, timeout):
        sample = self._sink.emit("try-pull-sample", int(timeout * SECOND))
        if sample is not None:
            return self._image(sample), self._stamp(sample.get_buffer())
        Gst = self._gst
        message = self._bus.pop_filtered(Gst.MessageType.ERROR | Gst.MessageType.EOS)
        if message is None:
            return None
        if message.type == Gst.MessageType.ERROR:
            raise CameraError(_describe(message))
        if self.loop:
            self._pipeline.seek_simple(
                Gst.Format.TIME, Gst.SeekFlags.FLUSH | Gst.SeekFlags.KEY_UNIT, 0
            )
            return None
        raise EndOfStream("end of stream")

    def close(self):
        if self._pipeline is not None:
            self._pipeline.set_state(self._gst.State.NULL)
            self._pipeline = self._sink = self._bus = None

    def _pop(self, kind):
        message = self._bus.pop_filtered(kind)
        return _describe(message) if message is not None else None

    @staticmethod
    def _image(sample):
        caps = sample.get_caps().get_structure(0)
        width, height = caps.get_value("width"), caps.get_value("height")
        buffer = sample.get_buffer()
        data = np.frombuffer(buffer.extract_dup(0, buffer.get_size()), np.uint8)
        rows = data.reshape(height, -1)  # rows may be padded to 4 bytes
        return rows[:, : width * 3].reshape(height, width, 3).copy()

    def _stamp(self, buffer):
        """Capture time: now, less how long ago (on the pipeline clock) the buffer was made."""
        now = wall_ns()
        clock = self._pipeline.get_clock()
        if not self.live or buffer.pts == NONE or clock is None:
            return now
        age = clock.get_time() - self._pipeline.get_base_time() - buffer.pts
        return now - max(0, age)


def _describe(message):
    error, _debug = message.parse_error()
    source = message.src.get_name() if message.src is not None else "pipeline"
    return f"{source}: {error.message}"


def _message(exc):
    return getattr(exc, "message", None) or str(exc)
