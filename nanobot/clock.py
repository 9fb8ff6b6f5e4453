"""The graph clock: wall time on the board, virtual time in simulation.

Stamps are integer nanoseconds since the Unix epoch (wall) or since the start of the
simulation (virtual). Nodes ask their clock through Node.now() / Node.now_ns().
"""

import time

try:
    _wall_ns = time.time_ns
except AttributeError:  # Python 3.6

    def _wall_ns():
        return int(time.time() * 1e9)


class WallClock:
    """Real time: what the process executor uses."""

    virtual = False

    def now_ns(self):
        return _wall_ns()

    def now(self):
        return self.now_ns() / 1e9


class VirtualClock:
    """Simulated time that moves only when the simulation executor advances it."""

    virtual = True

    def __init__(self, start_ns=0):
        self._now = int(start_ns)

    def now_ns(self):
        return self._now

    def now(self):
        return self._now / 1e9

    def advance_to(self, t_ns):
        if t_ns < self._now:
            raise ValueError("virtual time cannot go back (%d < %d)" % (t_ns, self._now))
        self._now = int(t_ns)
