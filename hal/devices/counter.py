"""PulseCounter: counts pulses on an input and gives their rate (a belt's speed sensor,
a flow meter, a slotted-wheel encoder)."""

import collections

from hal.devices.device import Device

__all__ = ["PulseCounter"]


class PulseCounter(Device):
    """Counts ``edge`` ("rising", "falling" or "both") pulses on ``pin``.

    ``count`` is the total since creation or :meth:`reset`; ``rate`` is pulses per second over
    the last ``window`` seconds of the factory's clock. For a belt: speed = rate * distance per
    pulse.
    """

    def __init__(self, pin, edge="rising", window=1.0, pull="auto", bounce_time=0.0, factory=None):
        super().__init__(factory)
        if window <= 0:
            raise ValueError(f"window must be above 0 seconds, not {window!r}")
        self.window = float(window)
        self.count = 0
        self._times = collections.deque()
        if pull == "auto":
            pull = "up" if self.factory.board.pull_configurable else None
        with self._building():
            self.pin = self._pin(pin, "input", pull=pull, bounce=bounce_time, edges=edge)
            self.pin.when_changed = self._pulse

    def _pulse(self, state, t):
        with self._lock:
            self.count += 1
            self._times.append(t)
            self._trim(t)

    def _trim(self, now):
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()

    @property
    def rate(self):
        """Pulses per second over the last ``window`` seconds."""
        with self._lock:
            self._trim(self.factory.clock())
            return len(self._times) / self.window

    def reset(self):
        with self._lock:
            self.count = 0
            self._times.clear()
