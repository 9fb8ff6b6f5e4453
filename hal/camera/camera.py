"""Camera: a source read on a background thread that keeps only the newest frame."""

import logging
import threading

from .backoff import Backoff
from .errors import CameraClosed, CameraError, CameraTimeout, EndOfStream
from .frame import Frame
from .latest import LatestFrame

logger = logging.getLogger("hal.camera")

#: How long the reader thread waits for a frame before it looks at its stop flag again.
POLL = 0.1


class Camera:
    """Frames from a Source, newest only, read on a background thread.

    ``hal.camera.open(uri)`` builds the source from a URI; ``Camera(source)`` takes any Source.
    The source is opened here (so a camera that is not there fails now, with the reason) and
    then read continuously: read() returns the newest frame not returned before, so a slow
    caller skips frames rather than falls behind. A live source that fails or ends is logged and
    reopened with exponential backoff; a file ends the camera at its end (read() raises
    EndOfStream, iteration stops). Use it as a context manager, or call close().

    `backoff` sets the delays between reopen attempts; `sleep(seconds)` waits one of them and
    returns True if the camera is closing meanwhile (default: an Event wait that close() cuts
    short; tests pass their own to run without real delays).
    """

    def __init__(self, source, name=None, backoff=None, sleep=None):
        self.name = name or source.describe()
        self.reconnects = 0
        self._source = source
        self._backoff = backoff or Backoff()
        self._stopping = threading.Event()
        self._sleep = sleep or self._stopping.wait
        self._slot = LatestFrame()
        source.open()
        self._thread = threading.Thread(target=self._run, name="camera " + self.name, daemon=True)
        self._thread.start()

    def __repr__(self):
        return f"<Camera {self.name}{' closed' if self.closed else ''}>"

    @property
    def closed(self):
        return self._stopping.is_set()

    @property
    def newest(self):
        """The newest frame received, whether read already or not (None before the first)."""
        return self._slot.newest

    def read(self, timeout=5.0):
        """Return the newest frame not returned before, waiting up to `timeout` seconds for it.

        Raises CameraTimeout if none arrives in time, EndOfStream after a file's last frame,
        CameraClosed once closed, CameraError if a file failed.
        """
        if self.closed:
            raise CameraClosed(f"camera {self.name} is closed; open it again to read")
        frame = self._slot.take(timeout)
        if frame is None:
            raise CameraTimeout(f"no new frame from camera {self.name} within {timeout:g} s")
        return frame

    def close(self, timeout=5.0):
        """Stop the reader thread and release the source; idempotent."""
        if not self.closed:
            self._stopping.set()
            self._slot.finish(CameraClosed(f"camera {self.name} was closed"))
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                logger.warning(
                    "camera %s: reader thread still busy %g s after close", self.name, timeout
                )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.read()
        except (EndOfStream, CameraClosed):
            raise StopIteration from None

    # The reader thread: everything below runs on it.

    def _run(self):
        seq = 0
        try:
            while not self._stopping.is_set():
                try:
                    got = self._source.grab(POLL)
                except Exception as exc:  # live: a drop-out; finite: the end or a failure
                    if not self._source.live:
                        self._slot.finish(self._final(exc))
                        return
                    self._reopen(exc)
                    continue
                if got is not None:
                    image, stamp = got
                    self._slot.put(Frame(image, stamp, seq))
                    seq += 1
                    self._backoff.reset()
        finally:
            self._source.close()

    def _final(self, exc):
        """The error read() raises once a finite source stopped with `exc`."""
        if isinstance(exc, EndOfStream):
            return EndOfStream(f"camera {self.name} has no more frames")
        return CameraError(f"camera {self.name} failed: {exc}")

    def _reopen(self, reason):
        """Report a drop-out, then reopen the source with backoff until it opens or we close."""
        logger.warning("camera %s dropped out (%s); reopening", self.name, _explain(reason))
        self._source.close()
        attempt = 0
        while True:
            delay = self._backoff.next()
            attempt += 1
            if self._sleep(delay) or self._stopping.is_set():
                return
            try:
                self._source.open()
            except Exception as exc:
                logger.warning(
                    "camera %s: reopen attempt %d failed (%s); next in %g s",
                    self.name, attempt, _explain(exc), self._backoff.upcoming,
                )  # fmt: skip
                continue
            self.reconnects += 1
            logger.info("camera %s reopened after %d attempt(s)", self.name, attempt)
            return


def _explain(exc):
    return str(exc) or type(exc).__name__
