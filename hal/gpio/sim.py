"""The simulated GPIO backend: in-memory lines that behave, and fail, as the board's would.

Each header pin has a :class:`SimLine`, the wire itself: the program drives it through a claimed
:class:`SimPin`; a test or a simulated world drives inputs with :meth:`SimLine.drive_high` /
:meth:`SimLine.drive_low` and observes outputs with :meth:`SimLine.subscribe`. Every change of
level, PWM frequency and duty cycle is recorded with its time (``line.history``), so tests assert
sequences and timings, as with gpiozero's MockPin::

    factory = SimFactory("jetson-nano", clock=VirtualClock())
    led = factory.pin(12); led.function = "output"; led.state = 1
    factory.line(12).assert_states([0, 1])

Edge callbacks run on the factory's event thread, as on hardware; :meth:`SimFactory.settle`
waits until every pending edge has been delivered. A simulation that runs on one thread can
have them delivered by ``settle()`` itself instead (``SimFactory(events="settle")``).
"""

import collections
import threading

from hal.boards import PinUsageError
from hal.gpio.pin import Factory, Pin

__all__ = ["Change", "SimFactory", "SimLine", "SimPin"]

Change = collections.namedtuple("Change", "t pin kind value")
Change.__doc__ = "One recorded change: time, BOARD pin, kind ('state', 'frequency', 'duty_cycle')."


class SimLine:
    """One simulated header line: its level, who drives it, and its recorded history."""

    def __init__(self, factory, number):
        self.factory = factory
        self.number = number
        self.header = factory.board.header_pin(number)
        self.history = []
        self._latest = {}  # kind -> the value of its newest change in history
        self._lock = threading.RLock()
        self._subscribers = []
        self._pin = None  # the SimPin claiming this line, if any
        self._output = None  # level the program drives, when an output
        self._external = None  # level the world drives, when driven
        self._pull = self.header.fixed_pull
        self._resistor = None
        self.level = self._resting_level()

    def __repr__(self):
        return f"<SimLine pin {self.number} level {self.level}>"

    # -- world side -------------------------------------------------------------------------

    def drive_high(self, t=None):
        """Drive this input high from outside (a sensor, a button), at time ``t`` or now."""
        self.drive(1, t)

    def drive_low(self, t=None):
        self.drive(0, t)

    def drive(self, level, t=None):
        with self._lock:
            if self._output is not None:
                raise PinUsageError(
                    f"pin {self.number} on the {self.factory.board.title} is an output of the "
                    "program; the world can only drive inputs"
                )
            self._external = 1 if level else 0
            self._update(t)

    def release(self, t=None):
        """Stop driving from outside: the line falls back to its pull (or floats low)."""
        with self._lock:
            self._external = None
            self._update(t)

    @property
    def resistor(self):
        """An external pull resistor wired to this line: "up", "down" or None (floating).

        On a Jetson, inputs need one (user space cannot set pulls); a floating line reads 0.
        """
        return self._resistor

    @resistor.setter
    def resistor(self, pull):
        if pull not in ("up", "down", None):
            raise PinUsageError(f"resistor must be 'up', 'down' or None, not {pull!r}")
        with self._lock:
            self._resistor = pull
            self._update()

    def subscribe(self, callback):
        """Call ``callback(change)`` on every recorded change; returns an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    # -- records ----------------------------------------------------------------------------

    def _series(self, kind):
        return [(c.t, c.value) for c in self.history if c.kind == kind]

    @property
    def states(self):
        """``[(t, level), ...]`` for every level change, the first being the level when claimed."""
        return self._series("state")

    @property
    def duty_cycles(self):
        return self._series("duty_cycle")

    @property
    def frequencies(self):
        return self._series("frequency")

    def assert_states(self, expected):
        """Assert the sequence of levels (times ignored)."""
        actual = [level for _, level in self.states]
        expected = list(expected)
        assert actual == expected, f"pin {self.number} states {actual}, expected {expected}"

    def assert_states_and_times(self, expected, tolerance=0.001):
        """Assert ``[(t, level), ...]``, times within ``tolerance`` seconds."""
        actual = self.states
        ok = len(actual) == len(expected) and all(
            a[1] == e[1] and abs(a[0] - e[0]) <= tolerance for a, e in zip(actual, expected)
        )
        assert ok, (
            f"pin {self.number} states and times {actual}, expected {list(expected)} "
            f"(tolerance {tolerance:g} s)"
        )

    # -- program side (SimPin) --------------------------------------------------------------

    def _resting_level(self):
        return 1 if (self._pull or self._resistor) == "up" else 0

    def _record(self, kind, value, t=None):
        change = Change(self.factory.clock() if t is None else t, self.number, kind, value)
        self.history.append(change)
        self._latest[kind] = value
        for callback in list(self._subscribers):
            callback(change)

    def _update(self, t=None):
        if self._output is not None:
            level = self._output
        elif self._external is not None:
            level = self._external
        else:
            level = self._resting_level()
        if level != self.level:
            self.level = level
            self._record("state", level, t)
            pin = self._pin
            if pin is not None and pin._watching:
                self.factory._dispatch(pin, level, t)


class SimPin(Pin):
    """A claimed simulated pin; ``pin.line`` is its :class:`SimLine`."""

    def __init__(self, factory, number):
        super().__init__(factory, number)
        self.line = factory.line(number)
        with self.line._lock:
            self.line._pin = self
            self.line._record("state", self.line.level)

    # The gpiozero MockPin vocabulary, for tests that hold the pin itself.
    def drive_high(self, t=None):
        self.line.drive_high(t)

    def drive_low(self, t=None):
        self.line.drive_low(t)

    @property
    def history(self):
        return self.line.history

    def _hw_setup_input(self, pull):
        with self.line._lock:
            self.line._output = None
            self.line._pull = pull or self.header.fixed_pull
            self.line._update()

    def _hw_setup_output(self, initial):
        self._hw_write(initial)

    def _hw_read(self):
        return self.line.level

    def _hw_write(self, level):
        with self.line._lock:
            self.line._output = level
            self.line._update()

    def _hw_pwm_start(self, frequency, duty_cycle):
        with self.line._lock:
            self.line._output = None
            self.line._record("frequency", frequency)
            self.line._record("duty_cycle", duty_cycle)

    def _hw_pwm_update(self, frequency, duty_cycle):
        with self.line._lock:
            last = self.line._latest  # not a scan of history: it grows all run long
            if last.get("frequency") != frequency:
                self.line._record("frequency", frequency)
            if last.get("duty_cycle") != duty_cycle:
                self.line._record("duty_cycle", duty_cycle)

    def _hw_pwm_stop(self):
        self._hw_pwm_update(self._frequency, 0.0)

    def _hw_watch(self):
        pass  # SimLine._update dispatches while pin._watching is set

    def _hw_unwatch(self):
        pass

    def _hw_release(self):
        # As with the GPIO character device, a released line keeps its last level until
        # something else drives it; it is recomputed on the next claim or world drive.
        with self.line._lock:
            self.line._output = None
            self.line._pull = self.header.fixed_pull
            self.line._pin = None


class SimFactory(Factory):
    """Simulated pins of ``board`` with the board's rules (see :mod:`hal.boards`).

    ``events`` says where edge callbacks run: "thread", on the factory's event thread as on
    hardware (the default); "settle", on the thread that calls :meth:`settle`, when it calls
    it. The second is for a simulation that runs everything on one thread and settles at
    fixed points (nanobot's simulation executor): the edges reach their callbacks at those
    points, in order, with no thread switch per edge.
    """

    backend = "sim"
    EVENTS = ("thread", "settle")

    def __init__(self, board="jetson-nano", clock=None, numbering="BOARD", events="thread"):
        super().__init__(board, clock, numbering)
        if events not in self.EVENTS:
            raise PinUsageError(f"events must be 'thread' or 'settle', not {events!r}")
        self.events = events
        self._lines = {}
        self._events = collections.deque()
        self._pending = 0
        self._events_cond = threading.Condition()
        self._thread = None

    def line(self, channel, numbering=None):
        """The :class:`SimLine` of header pin ``channel`` (claimed or not): the world's handle."""
        number = self.board.resolve(channel, numbering or self.numbering)
        self.board.check_gpio(number, "simulated as a GPIO line")
        with self._lock:
            if number not in self._lines:
                self._lines[number] = SimLine(self, number)
            return self._lines[number]

    def _make_pin(self, number):
        return SimPin(self, number)

    def settle(self, timeout=5.0):
        """Wait until every edge so far has reached its callbacks (with events="settle",
        deliver them, on this thread); False on timeout."""
        if self.events == "settle":
            while self._events:  # a callback may drive lines: its edges are delivered too
                pin, level, t = self._events.popleft()
                pin._edge(level, t)
            return True
        with self._events_cond:
            return self._events_cond.wait_for(lambda: self._pending == 0, timeout)

    def _dispatch(self, pin, level, t):
        t = self.clock() if t is None else t
        if self.events == "settle":
            self._events.append((pin, level, t))
            return
        with self._events_cond:
            self._events.append((pin, level, t))
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver, name="hal-sim-gpio-events", daemon=True
                )
                self._thread.start()
            if self._pending == 1:  # the event thread waits only when nothing is pending
                self._events_cond.notify_all()

    def _deliver(self):
        while True:
            with self._events_cond:
                self._events_cond.wait_for(lambda: self._events)
                pin, level, t = self._events.popleft()
            try:
                pin._edge(level, t)
            finally:
                with self._events_cond:
                    self._pending -= 1
                    if not self._pending:  # what settle() waits for
                        self._events_cond.notify_all()
