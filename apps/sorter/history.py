"""The belt's recent travel, to say where it was at any stamp (an image's, a beam edge's)."""

import bisect
import collections


class BeltHistory:
    """BeltState samples of the last `keep` seconds; `position_at(stamp)` interpolates.

    Between samples the position is interpolated linearly; after the newest one it is
    extrapolated with the newest measured speed; before the oldest one it is the oldest.
    """

    def __init__(self, keep=10.0):
        self.keep_ns = int(keep * 1e9)
        self._stamps = collections.deque()
        self._positions = collections.deque()
        self.speed = 0.0  # mm/s, newest
        self.running = False

    def __len__(self):
        return len(self._stamps)

    def add(self, stamp, position_mm, speed_mm_s, running=True):
        """Record a sample; samples older than the newest are ignored."""
        if self._stamps and stamp <= self._stamps[-1]:
            return
        self._stamps.append(stamp)
        self._positions.append(position_mm)
        self.speed = speed_mm_s
        self.running = running
        while self._stamps[0] < stamp - self.keep_ns:
            self._stamps.popleft()
            self._positions.popleft()

    @property
    def stamp(self):
        """The newest sample's stamp (ns), or None."""
        return self._stamps[-1] if self._stamps else None

    def position_at(self, stamp):
        """The belt position (mm) at `stamp` (ns); None before any sample."""
        if not self._stamps:
            return None
        stamps = self._stamps
        if stamp >= stamps[-1]:
            return self._positions[-1] + self.speed * (stamp - stamps[-1]) / 1e9
        i = bisect.bisect_right(stamps, stamp)
        if i == 0:
            return self._positions[0]
        t0, t1 = stamps[i - 1], stamps[i]
        p0, p1 = self._positions[i - 1], self._positions[i]
        return p0 + (p1 - p0) * (stamp - t0) / (t1 - t0)
