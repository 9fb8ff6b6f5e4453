"""The backend-independent half of GPIO: :class:`Factory` hands out :class:`Pin` objects.

A backend subclasses both and fills in the few ``_hw_*`` hooks; everything users see (board
rules, numbering, software debounce, edge callbacks, ``wait_for_edge``, PWM in Hz and 0..1,
release on close) lives here, so the simulator and the real board behave alike.
"""

import logging
import threading

from hal.boards import PinUsageError, get_board
from hal.gpio.clock import as_clock

__all__ = ["EDGES", "FUNCTIONS", "Factory", "Pin"]

log = logging.getLogger("hal.gpio")

FUNCTIONS = ("input", "output", "pwm")
EDGES = ("none", "rising", "falling", "both")


class Factory:
    """Hands out the header pins of one board; each pin to one owner at a time.

    ``numbering`` is how plain integers are read: "BOARD" (header pin numbers, the default)
    or "BCM". Jetson CVM/TEGRA_SOC names ("GPIO07", "LCD_BL_PW") are accepted either way.
    ``clock`` stamps every edge and state change (a callable returning seconds, or a clock
    from :mod:`hal.gpio.clock`); it defaults to the wall clock.
    """

    backend = None  # the name get_factory() knows the backend by

    def __init__(self, board, clock=None, numbering="BOARD"):
        self.board = get_board(board)
        self.clock = as_clock(clock)
        self.numbering = numbering.upper()
        if self.numbering not in ("BOARD", "BCM"):
            raise PinUsageError(f"numbering must be 'BOARD' or 'BCM', not {numbering!r}")
        self._pins = {}
        self._lock = threading.RLock()
        self.closed = False

    def __repr__(self):
        return f"<{type(self).__name__} {self.backend} on the {self.board.title}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def pin(self, channel, numbering=None):
        """Claim header pin ``channel`` and return its :class:`Pin` (function not set yet)."""
        if self.closed:
            raise PinUsageError("this GPIO factory is closed; create a new one with get_factory()")
        number = self.board.resolve(channel, numbering or self.numbering)
        self.board.check_gpio(number)
        with self._lock:
            if number in self._pins:
                free = [n for n in self.board.gpio_pins() if n not in self._pins]
                raise PinUsageError(
                    f"pin {number} on the {self.board.title} is already in use; close its user "
                    f"first or pick a free GPIO pin: {', '.join(map(str, free))}"
                )
            pin = self._pins[number] = self._make_pin(number)
        return pin

    def pwm(self, channel, frequency=50.0, duty_cycle=0.0):
        """Claim ``channel`` as a hardware PWM output (a "PWM output": frequency, duty_cycle)."""
        pin = self.pin(channel)
        try:
            pin._set_pwm(frequency, duty_cycle)
        except BaseException:
            pin.close()
            raise
        return pin

    @property
    def claimed(self):
        """BOARD numbers of the pins currently claimed, ascending."""
        with self._lock:
            return sorted(self._pins)

    def close(self):
        """Release exactly the pins this factory claimed (outputs are driven low first)."""
        for number in self.claimed:
            pin = self._pins.get(number)
            if pin is not None:
                pin.close()
        self.closed = True

    def _forget(self, pin):
        with self._lock:
            if self._pins.get(pin.number) is pin:
                del self._pins[pin.number]

    def _make_pin(self, number):
        raise NotImplementedError


class Pin:
    """One claimed header pin: input, output or hardware PWM.

    - ``function``: "input", "output" or "pwm" (None until set).
    - ``state``: read the level (0/1); write it on an output.
    - ``pull``: "up", "down" or None, where the board allows it (not on a Jetson).
    - ``edges`` ("none", "rising", "falling", "both"), ``bounce`` (seconds) and
      ``when_changed(state, t)``: edge callbacks, called on a background thread, debounced in
      software: an edge within ``bounce`` of the last one is held back and the level re-read
      when the window ends, and an "edge" that does not change the level is dropped (so the
      double events Jetson.GPIO users see are filtered out).
    - ``frequency`` (Hz) and ``duty_cycle`` (0..1): hardware PWM; setting either on a PWM pin
      switches it to "pwm". A Pin in PWM mode is a "PWM output" for Servo and Motor.
    """

    def __init__(self, factory, number):
        self.factory = factory
        self.number = number
        self.header = factory.board.header_pin(number)
        self._function = None
        self._pull = None
        self._frequency = 50.0
        self._duty_cycle = 0.0
        self._edges = "none"
        self._bounce = 0.0
        self._when_changed = None
        self._watching = False
        self._cond = threading.Condition()
        self._level = None  # last level reported to callbacks
        self._last_edge_t = None
        self._recheck = None
        self._seen = {"rising": 0, "falling": 0}
        self.release_state = 0  # level an output is left at on close (a device's "off")
        self.closed = False

    def __repr__(self):
        state = "closed" if self.closed else self._function or "unset"
        return f"<{type(self).__name__} pin {self.number} ({self.header.name}) {state}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def board(self):
        return self.factory.board

    def _where(self):
        return f"pin {self.number} on the {self.board.title}"

    def _check_open(self):
        if self.closed:
            raise PinUsageError(f"{self._where()} was closed; claim it again with factory.pin()")

    # -- function ---------------------------------------------------------------------------

    @property
    def function(self):
        return self._function

    @function.setter
    def function(self, value):
        self._check_open()
        if value not in FUNCTIONS:
            raise PinUsageError(
                "function must be one of {}, not {!r}".format(", ".join(FUNCTIONS), value)
            )
        if value == self._function:
            return
        check = {"input": self.board.check_input, "output": self.board.check_output}
        check.get(value, self.board.check_pwm)(self.number)
        self._leave_function()
        if value == "input":
            self._hw_setup_input(self._pull)
        elif value == "output":
            self._hw_setup_output(0)
        else:
            self._hw_pwm_start(self._frequency, self._duty_cycle)
        self._function = value
        if value == "input" and self._edges != "none":
            self._start_watching()

    def _leave_function(self):
        if self._function == "input":
            self._stop_watching()
        elif self._function == "pwm":
            self._hw_pwm_stop()
        elif self._function == "output":
            self._hw_write(self.release_state)

    # -- level ------------------------------------------------------------------------------

    @property
    def state(self):
        """The pin's level, 0 or 1 (for a PWM pin: its duty cycle)."""
        self._check_open()
        if self._function is None:
            raise PinUsageError(f"{self._where()} has no function yet; set pin.function first")
        if self._function == "pwm":
            return self._duty_cycle
        return int(self._hw_read())

    @state.setter
    def state(self, value):
        self._check_open()
        if self._function == "pwm":
            self.duty_cycle = value
            return
        if self._function != "output":
            raise PinUsageError(
                "{} is {}; set pin.function = 'output' before writing its state".format(
                    self._where(), "an input" if self._function else "not set up"
                )
            )
        self._hw_write(1 if value else 0)

    @property
    def pull(self):
        return self._pull

    @pull.setter
    def pull(self, value):
        self._check_open()
        value = None if value == "floating" else value
        self.board.check_pull(self.number, value)
        if self._function not in (None, "input"):
            raise PinUsageError(f"{self._where()} is an {self._function}; only inputs have a pull")
        self._pull = value
        if self._function == "input":
            self._hw_setup_input(value)

    # -- PWM --------------------------------------------------------------------------------

    @property
    def frequency(self):
        """PWM frequency in Hz."""
        return self._frequency

    @frequency.setter
    def frequency(self, hz):
        self._set_pwm(frequency=hz)

    @property
    def duty_cycle(self):
        """PWM duty cycle, 0.0 (always low) to 1.0 (always high)."""
        return self._duty_cycle

    @duty_cycle.setter
    def duty_cycle(self, value):
        self._set_pwm(duty_cycle=value)

    def _set_pwm(self, frequency=None, duty_cycle=None):
        """Check and apply new PWM settings at once; starts PWM if the pin was not PWM yet."""
        self._check_open()
        if frequency is not None:
            frequency = float(frequency)
            if not frequency > 0:
                raise PinUsageError(
                    f"{self._where()}: PWM frequency must be above 0 Hz, not {frequency:g}"
                )
        if duty_cycle is not None:
            duty_cycle = float(duty_cycle)
            if not 0.0 <= duty_cycle <= 1.0:
                raise PinUsageError(
                    f"{self._where()}: duty_cycle must be within 0..1, not {duty_cycle:g}"
                )
        if self._function != "pwm":
            self.board.check_pwm(self.number)  # fails clearly on a pin without PWM
        self._frequency = self._frequency if frequency is None else frequency
        self._duty_cycle = self._duty_cycle if duty_cycle is None else duty_cycle
        if self._function == "pwm":
            self._hw_pwm_update(self._frequency, self._duty_cycle)
        else:
            self.function = "pwm"

    # -- edges ------------------------------------------------------------------------------

    @property
    def edges(self):
        return self._edges

    @edges.setter
    def edges(self, value):
        self._check_open()
        if value not in EDGES:
            raise PinUsageError("edges must be one of {}, not {!r}".format(", ".join(EDGES), value))
        self._edges = value
        if self._function == "input":
            self._start_watching() if value != "none" else self._stop_watching()

    @property
    def bounce(self):
        """Software debounce window in seconds (0: none)."""
        return self._bounce

    @bounce.setter
    def bounce(self, seconds):
        if seconds is None or seconds < 0:
            raise PinUsageError(f"bounce must be 0 or more seconds, not {seconds!r}")
        self._bounce = float(seconds)

    @property
    def when_changed(self):
        return self._when_changed

    @when_changed.setter
    def when_changed(self, callback):
        if callback is not None and not callable(callback):
            raise PinUsageError("when_changed must be callable(state, t) or None")
        self._when_changed = callback
        if callback is not None and self._edges == "none":
            self.edges = "both"

    def wait_for_edge(self, edge="both", timeout=None):
        """Block until an edge of kind ``edge`` arrives: True, or False after ``timeout`` s."""
        if edge not in EDGES[1:]:
            raise PinUsageError(f"edge must be 'rising', 'falling' or 'both', not {edge!r}")
        if self._function != "input":
            raise PinUsageError(f"{self._where()} must be an input to wait for an edge")
        self._start_watching()
        kinds = ("rising", "falling") if edge == "both" else (edge,)
        with self._cond:
            start = sum(self._seen[k] for k in kinds)
            return self._cond.wait_for(lambda: sum(self._seen[k] for k in kinds) > start, timeout)

    def _start_watching(self):
        with self._cond:
            if self._watching:
                return
            self._level = int(self._hw_read())
            self._last_edge_t = None
            self._watching = True
        self._hw_watch()

    def _stop_watching(self):
        with self._cond:
            if not self._watching:
                return
            self._watching = False
            if self._recheck is not None:
                self._recheck.cancel()
                self._recheck = None
        self._hw_unwatch()

    def _edge(self, level, t=None):
        """Called by the backend (on its event thread) when the line may have changed."""
        t = self.factory.clock() if t is None else t
        with self._cond:
            if not self._watching or level == self._level:
                return  # a repeated "edge" that changed nothing: dropped
            since = None if self._last_edge_t is None else t - self._last_edge_t
            if self._bounce and since is not None and since < self._bounce:
                if self._recheck is None:
                    clock = self.factory.clock
                    delay = self._last_edge_t + self._bounce - clock()
                    self._recheck = clock.call_later(delay, self._settle)
                return
            kind = self._accept(level, t)
        self._notify(kind, level, t)

    def _settle(self):
        with self._cond:
            self._recheck = None
            if not self._watching or self.closed:
                return
            level = int(self._hw_read())
            if level == self._level:
                return
            t = self.factory.clock()
            kind = self._accept(level, t)
        self._notify(kind, level, t)

    def _accept(self, level, t):
        kind = "rising" if level else "falling"
        self._level = level
        self._last_edge_t = t
        self._seen[kind] += 1
        self._cond.notify_all()
        return kind

    def _notify(self, kind, level, t):
        callback = self._when_changed
        if callback is not None and self._edges in (kind, "both"):
            try:
                callback(level, t)
            except Exception:
                log.exception("edge callback of %s failed", self._where())

    # -- release ----------------------------------------------------------------------------

    def close(self):
        """Release the pin: outputs driven to ``release_state`` (low unless a device said
        otherwise), PWM duty set to 0 and stopped, edge detection removed."""
        if self.closed:
            return
        try:
            self._leave_function()
            self._hw_release()
        finally:
            self.closed = True
            self._function = None
            self.factory._forget(self)

    # -- backend hooks ----------------------------------------------------------------------

    def _hw_setup_input(self, pull):
        raise NotImplementedError

    def _hw_setup_output(self, initial):
        raise NotImplementedError

    def _hw_read(self):
        raise NotImplementedError

    def _hw_write(self, level):
        raise NotImplementedError

    def _hw_pwm_start(self, frequency, duty_cycle):
        raise NotImplementedError

    def _hw_pwm_update(self, frequency, duty_cycle):
        raise NotImplementedError

    def _hw_pwm_stop(self):
        raise NotImplementedError

    def _hw_watch(self):
        raise NotImplementedError

    def _hw_unwatch(self):
        raise NotImplementedError

    def _hw_release(self):
        raise NotImplementedError
