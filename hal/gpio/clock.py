"""Clocks for GPIO timestamps and timed device behaviour (blink, hold, debounce recheck).

A clock is called to get the time in seconds, and ``call_later(delay, fn)`` runs ``fn`` after
``delay`` seconds of that clock's time, returning a handle with ``cancel()``.

- :class:`WallClock` (the default): ``time.monotonic`` and one timer thread.
- :class:`VirtualClock`: time stands still until :meth:`VirtualClock.advance`, which runs the
  due callbacks in time order on the caller's thread; deterministic, as tests want.
- :class:`DrivenClock`: time read from another clock (a program's own, e.g. a node graph's),
  timers run when its owner calls :meth:`DrivenClock.run_due`; deterministic when that other
  clock is.
- Any plain callable returning seconds (e.g. a simulation's clock) is wrapped by :func:`as_clock`
  so its readings are used for timestamps while timers run on the wall clock.
"""

import heapq
import itertools
import threading
import time

__all__ = ["DrivenClock", "VirtualClock", "WallClock", "as_clock"]


class _Timer:
    __slots__ = ("cancelled", "due", "fn", "seq")

    def __init__(self, due, seq, fn):
        self.due, self.seq, self.fn, self.cancelled = due, seq, fn, False

    def __lt__(self, other):
        return (self.due, self.seq) < (other.due, other.seq)

    def cancel(self):
        self.cancelled = True


class _Schedule:
    """A heap of timers ordered by due time, then by scheduling order."""

    def __init__(self):
        self._heap = []
        self._seq = itertools.count()

    def add(self, due, fn):
        timer = _Timer(due, next(self._seq), fn)
        heapq.heappush(self._heap, timer)
        return timer

    def next_due(self):
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].due if self._heap else None

    def pop(self):
        return heapq.heappop(self._heap)


class WallClock:
    """Real time: ``time.monotonic()`` (or ``source``), timers on one daemon thread."""

    def __init__(self, source=time.monotonic):
        self._source = source
        self._schedule = _Schedule()
        self._cond = threading.Condition()
        self._thread = None

    def __call__(self):
        return self._source()

    def call_later(self, delay, fn):
        with self._cond:
            timer = self._schedule.add(time.monotonic() + max(0.0, delay), fn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hal-clock", daemon=True)
                self._thread.start()
            self._cond.notify()
        return timer

    def _run(self):
        while True:
            with self._cond:
                due = self._schedule.next_due()
                now = time.monotonic()
                if due is None or due > now:
                    self._cond.wait(None if due is None else due - now)
                    continue
                timer = self._schedule.pop()
            timer.fn()


class VirtualClock:
    """Simulated time that moves only when told to: ``advance(dt)`` or ``set(t)``."""

    def __init__(self, start=0.0):
        self._now = float(start)
        self._schedule = _Schedule()
        self._lock = threading.RLock()

    def __call__(self):
        return self._now

    def call_later(self, delay, fn):
        with self._lock:
            return self._schedule.add(self._now + max(0.0, delay), fn)

    def advance(self, dt):
        """Move time forward by ``dt`` seconds, running due timers in order at their times."""
        self.set(self._now + dt)

    def set(self, t):
        """Move time forward to ``t``, running due timers in order at their times.

        Timers run on the calling thread, outside the clock's lock, so they may schedule more.
        """
        if t < self._now:
            raise ValueError(f"a VirtualClock cannot go back (now {self._now:g}, asked {t:g})")
        while True:
            with self._lock:
                due = self._schedule.next_due()
                if due is None or due > t:
                    self._now = t
                    return
                timer = self._schedule.pop()
                self._now = max(self._now, timer.due)
            timer.fn()


class DrivenClock:
    """Time from ``source`` (a callable returning seconds), timers run by :meth:`run_due`.

    For a program that has a clock of its own and a loop to drive: a node graph's clock, real
    or simulated. Reading the time is always exact (it asks ``source``); timers (a device's
    blink, a debounce recheck) run on the owner's thread when it calls :meth:`run_due`, so a
    timer runs at most one of the owner's periods late, and, on a simulated ``source``, at
    the same moments in every run.
    """

    def __init__(self, source):
        self._source = source
        self._schedule = _Schedule()
        self._lock = threading.Lock()

    def __call__(self):
        return self._source()

    def call_later(self, delay, fn):
        """Run ``fn`` at the first :meth:`run_due` at least ``delay`` seconds from now
        (thread-safe)."""
        with self._lock:
            return self._schedule.add(self._source() + max(0.0, delay), fn)

    def run_due(self):
        """Run every timer due by now, in time order; returns how many ran."""
        now, ran = self._source(), 0
        while True:
            with self._lock:
                due = self._schedule.next_due()
                if due is None or due > now:
                    return ran
                timer = self._schedule.pop()
            timer.fn()
            ran += 1


def as_clock(clock=None):
    """A clock object for ``clock``: None -> WallClock(), a callable -> timestamps from it."""
    if clock is None:
        return WallClock()
    if hasattr(clock, "call_later"):
        return clock
    if callable(clock):
        return WallClock(clock)
    raise TypeError(f"clock must be a callable returning seconds, not {clock!r}")
