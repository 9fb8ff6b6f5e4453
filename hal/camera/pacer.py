"""Pacer: lets a source that could deliver at once (a file, images, a sim) keep a frame rate."""

import time


class Pacer:
    """Due times 1/fps apart; a pacer that fell behind starts afresh rather than catch up."""

    def __init__(self, fps, clock=time.monotonic, sleep=time.sleep):
        self.period = 1.0 / fps
        self._clock, self._sleep = clock, sleep
        self._due = None

    def wait(self, timeout):
        """Sleep until the next frame is due and return True, or return False after `timeout`
        seconds if it is not due by then (the caller asks again)."""
        now = self._clock()
        if self._due is None or now - self._due > self.period:
            self._due = now  # first frame, or fell behind: no burst of late frames
        remaining = self._due - now
        if remaining > timeout:
            self._sleep(timeout)
            return False
        if remaining > 0:
            self._sleep(remaining)
        self._due += self.period
        return True
