"""LatestFrame: a one-frame mailbox; a new frame replaces an unread one, never queues behind it."""

import threading


class LatestFrame:
    """Holds the newest frame; take() hands each frame out at most once, newest first.

    The writer (a camera's reader thread) put()s every frame; readers take() the newest one
    not taken yet, so a slow reader skips frames instead of falling behind. finish(error) says
    no frame will follow: take() then raises `error` once the last frame has been taken.
    """

    def __init__(self):
        self._changed = threading.Condition()
        self._newest = None
        self._taken = -1  # seq of the last frame handed out
        self._final = None

    @property
    def newest(self):
        """The newest frame put, taken or not (None before the first)."""
        return self._newest

    def put(self, frame):
        with self._changed:
            self._newest = frame
            self._changed.notify_all()

    def finish(self, error):
        """No more frames: take() raises `error` once the newest frame has been taken."""
        with self._changed:
            if self._final is None:
                self._final = error
            self._changed.notify_all()

    def take(self, timeout=None):
        """Return the newest frame not taken yet, waiting up to `timeout` seconds (None: for
        ever) for one; return None on timeout; raise the finish() error if none will come."""
        with self._changed:
            self._changed.wait_for(lambda: self._fresh() or self._final is not None, timeout)
            if self._fresh():
                self._taken = self._newest.seq
                return self._newest
            if self._final is not None:
                raise self._final.with_traceback(None)
            return None

    def _fresh(self):
        return self._newest is not None and self._newest.seq > self._taken
