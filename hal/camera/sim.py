"""Simulated cameras: frames from anything registered under a name, read as ``sim://NAME``.

A simulated world registers a source, then nodes open it like any camera::

    hal.camera.sim.register("conveyor", world.render_frame)   # returns (image, stamp_ns)
    camera = hal.camera.open("sim://conveyor")

A source is a callable, or an object with a read() method (and, optionally, open() and close(),
called as the camera opens and closes it). Each call returns the next frame as (BGR uint8 image,
stamp in ns or None for "now"), returns None if no frame is ready yet, raises EndOfStream to
end, or raises anything else to drop out (the camera then reopens it with backoff, as it would
a real one). It may block until its next frame is due, so setting the frame rate; or the
camera asks at the `fps` given to open().

``sim://counter`` is built in: frames whose every pixel holds the frame's number modulo 256,
at `fps` (default 30), `width` x `height` (default 160x120); each open starts a fresh count.
"""

import threading

import numpy as np

from .errors import CameraError, CameraURIError
from .frame import fit, wall_ns
from .pacer import Pacer
from .source import Source

_sources = {}
_lock = threading.Lock()


def register(name, source):
    """Make `source` readable as sim://`name` (replacing any source of that name)."""
    if not name or "/" in name or "?" in name:
        raise ValueError(f"a sim camera name is a plain word like 'conveyor', got {name!r}")
    if not callable(getattr(source, "read", source)):
        raise TypeError(f"a sim camera source is a callable or has a read() method; got {source!r}")
    with _lock:
        _sources[name] = source


def unregister(name):
    """Forget sim://`name`; cameras already open keep reading it."""
    with _lock:
        _sources.pop(name, None)


def registered():
    """The names sim:// can open, built-in ones included, sorted."""
    with _lock:
        return sorted(set(_sources) | {"counter"})


def lookup(name, width=None, height=None, fps=None):
    """The Source for sim://`name`, or CameraURIError listing the names that exist."""
    with _lock:
        source = _sources.get(name)
    if source is None and name == "counter":
        source = Counter(width or 160, height or 120, fps or 30.0)
    if source is None:
        raise CameraURIError(
            f"no sim camera is registered as {name!r}; registered: {', '.join(registered())} "
            "(a simulated world registers its camera with hal.camera.sim.register(name, source))"
        )
    return SimSource(name, source, width, height, None if name == "counter" else fps)


class SimSource(Source):
    """Adapts a registered source (callable or object with read()) to the Source interface;
    with `fps` it is asked for frames at that rate, else as fast as it returns them."""

    def __init__(self, name, source, width=None, height=None, fps=None):
        self.name, self.source, self.width, self.height = name, source, width, height
        self._read = getattr(source, "read", source)
        self._pacer = Pacer(fps) if fps else None

    def describe(self):
        return f"simulated camera {self.name!r} ({self.source!r})"

    def open(self):
        _call(self.source, "open")

    def grab(self, timeout):
        if self._pacer is not None and not self._pacer.wait(timeout):
            return None
        got = self._read()
        if got is None:
            return None
        image, stamp = got
        if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3):
            raise CameraError(
                f"sim camera {self.name!r} returned {getattr(image, 'shape', type(image))!r}; "
                "a frame is a BGR uint8 array of shape (h, w, 3)"
            )
        return fit(image, self.width, self.height), wall_ns() if stamp is None else int(stamp)

    def close(self):
        _call(self.source, "close")


class Counter:
    """The built-in sim://counter: frame n is filled with n % 256, `fps` frames a second."""

    def __init__(self, width, height, fps, pacer=None):
        self.width, self.height, self.fps = width, height, fps
        self._pacer = pacer or Pacer(fps)
        self._count = 0

    def __repr__(self):
        return f"Counter({self.width}x{self.height} at {self.fps:g} fps)"

    def open(self):
        self._count = 0

    def read(self):
        self._pacer.wait(self._pacer.period)
        image = np.full((self.height, self.width, 3), self._count % 256, np.uint8)
        self._count += 1
        return image, None


def _call(source, method):
    hook = getattr(source, method, None)
    if callable(hook):
        hook()
