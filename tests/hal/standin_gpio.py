"""A stand-in for the RPi.GPIO / Jetson.GPIO module, for testing hal's rpigpio backend.

It follows the real modules' API and rules (Jetson.GPIO 2.1.x, gpio.py, and RPi.GPIO 0.7):
numbering mode set before setup and never changed, channels valid only in the current mode,
output()/input() only on set-up channels, PWM only on the board's PWM channels (Jetson: hardware
PWM via pwmchip, duty 0..100, duplicate PWM objects refused; RPi: software PWM on an output),
add_event_detect only on inputs (a second one on a channel: RuntimeError in RPi.GPIO, a warning
and no-op in Jetson.GPIO), cleanup(channel) of one line. It records every call in ``calls``.

The "hardware" side is driven by the test: ``set_level(channel, level)`` changes an input and
fires the edge callback on the stand-in's event thread (twice with ``double_events``, as users
report for Jetson.GPIO).
"""

import collections
import threading
import warnings

# Jetson.GPIO constants.py (RPi.GPIO uses the same values for these names)
BOARD, BCM, TEGRA_SOC, CVM = 10, 11, 1000, 1001
PUD_OFF, PUD_DOWN, PUD_UP = 20, 21, 22
HIGH, LOW = 1, 0
RISING, FALLING, BOTH = 31, 32, 33
UNKNOWN, OUT, IN, HARD_PWM = -1, 0, 1, 43

# Jetson.GPIO JETSON_NANO_PIN_DEFS: BOARD, BCM, CVM, TEGRA_SOC, has PWM.
NANO_ROWS = [
    (7, 4, "GPIO9", "AUD_MCLK", False), (11, 17, "UART1_RTS", "UART2_RTS", False),
    (12, 18, "I2S0_SCLK", "DAP4_SCLK", False), (13, 27, "SPI1_SCK", "SPI2_SCK", False),
    (15, 22, "GPIO12", "LCD_TE", False), (16, 23, "SPI1_CS1", "SPI2_CS1", False),
    (18, 24, "SPI1_CS0", "SPI2_CS0", False), (19, 10, "SPI0_MOSI", "SPI1_MOSI", False),
    (21, 9, "SPI0_MISO", "SPI1_MISO", False), (22, 25, "SPI1_MISO", "SPI2_MISO", False),
    (23, 11, "SPI0_SCK", "SPI1_SCK", False), (24, 8, "SPI0_CS0", "SPI1_CS0", False),
    (26, 7, "SPI0_CS1", "SPI1_CS1", False), (29, 5, "GPIO01", "CAM_AF_EN", False),
    (31, 6, "GPIO11", "GPIO_PZ0", False), (32, 12, "GPIO07", "LCD_BL_PW", True),
    (33, 13, "GPIO13", "GPIO_PE6", True), (35, 19, "I2S0_FS", "DAP4_FS", False),
    (36, 16, "UART1_CTS", "UART2_CTS", False), (37, 26, "SPI1_MOSI", "SPI2_MOSI", False),
    (38, 20, "I2S0_DIN", "DAP4_DIN", False), (40, 21, "I2S0_DOUT", "DAP4_DOUT", False),
]  # fmt: skip

# Raspberry Pi: BOARD -> BCM for the 28 signal pins; every one is a GPIO.
PI_ROWS = [
    (b, g, None, None, True)
    for b, g in [
        (3, 2), (5, 3), (7, 4), (8, 14), (10, 15), (11, 17), (12, 18), (13, 27), (15, 22),
        (16, 23), (18, 24), (19, 10), (21, 9), (22, 25), (23, 11), (24, 8), (26, 7), (27, 0),
        (28, 1), (29, 5), (31, 6), (32, 12), (33, 13), (35, 19), (36, 16), (37, 26), (38, 20),
        (40, 21),
    ]
]  # fmt: skip


class StandinGPIO:
    """One instance stands for the imported module (``import Jetson.GPIO as GPIO``)."""

    BOARD, BCM, TEGRA_SOC, CVM = BOARD, BCM, TEGRA_SOC, CVM
    PUD_OFF, PUD_DOWN, PUD_UP = PUD_OFF, PUD_DOWN, PUD_UP
    HIGH, LOW, RISING, FALLING, BOTH = HIGH, LOW, RISING, FALLING, BOTH
    UNKNOWN, OUT, IN, HARD_PWM = UNKNOWN, OUT, IN, HARD_PWM

    def __init__(self, flavour="jetson", rows=None, pwm_muxed=True, setup_error=None):
        assert flavour in ("jetson", "rpi")
        self.flavour = flavour
        self.rows = rows or (NANO_ROWS if flavour == "jetson" else PI_ROWS)
        self.pwm_muxed = pwm_muxed
        self.setup_error = setup_error  # raised by setup(), e.g. OSError(EACCES) or lgpio busy
        self.calls = []
        self.mode = None
        self.config = {}  # channel -> IN / OUT / HARD_PWM
        self.levels = collections.defaultdict(int)  # channel -> level on the wire
        self.pulls = {}
        self.detect = {}  # channel -> callback or None
        self.pwms = {}
        self.double_events = False
        self._events = collections.deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._thread = None

    # -- helpers ----------------------------------------------------------------------------

    def _channels(self):
        column = {BOARD: 0, BCM: 1, CVM: 2, TEGRA_SOC: 3}[self.mode]
        return {row[column]: row for row in self.rows}

    def _row(self, channel, need_pwm=False):
        if self.mode is None:
            raise RuntimeError(
                "Please set pin numbering mode using GPIO.setmode(GPIO.BOARD), "
                "GPIO.setmode(GPIO.BCM), GPIO.setmode(GPIO.TEGRA_SOC) or GPIO.setmode(GPIO.CVM)"
            )
        row = self._channels().get(channel)
        if row is None:
            raise ValueError(f"Channel {channel!s} is invalid")
        if need_pwm and self.flavour == "jetson" and not (row[4] and self.pwm_muxed):
            raise ValueError(f"Channel {channel!s} is not a PWM")
        return row

    # -- the module API ---------------------------------------------------------------------

    def setwarnings(self, state):
        self.calls.append(("setwarnings", state))

    def setmode(self, mode):
        self.calls.append(("setmode", mode))
        if self.mode and mode != self.mode:
            raise ValueError("A different mode has already been set!")
        if mode not in (BOARD, BCM, CVM, TEGRA_SOC) or (self.flavour == "rpi" and mode > BCM):
            raise ValueError("An invalid mode was passed to setmode()!")
        self.mode = mode

    def getmode(self):
        return self.mode

    def setup(self, channel, direction, pull_up_down=None, initial=None):
        self.calls.append(("setup", channel, direction, pull_up_down, initial))
        self._row(channel)
        if self.setup_error is not None:
            raise self.setup_error
        if direction not in (IN, OUT):
            raise ValueError("An invalid direction was passed to setup()")
        if direction == OUT and pull_up_down not in (None, PUD_OFF):
            raise ValueError("pull_up_down parameter is not valid for outputs")
        if pull_up_down is not None and self.flavour == "jetson":
            warnings.warn("Jetson.GPIO ignores setup()'s pull_up_down parameter", stacklevel=2)
        if channel in self.config:
            self._cleanup_one(channel)
        self.config[channel] = direction
        if direction == OUT:
            self.levels[channel] = initial or LOW
        else:
            self.pulls[channel] = pull_up_down

    def input(self, channel):
        self._row(channel)
        if self.config.get(channel) not in (IN, OUT):
            raise RuntimeError("You must setup() the GPIO channel first")
        return self.levels[channel]

    def output(self, channel, value):
        self.calls.append(("output", channel, value))
        self._row(channel)
        if self.config.get(channel) != OUT:
            raise RuntimeError("The GPIO channel has not been set up as an OUTPUT")
        self.levels[channel] = value

    def add_event_detect(self, channel, edge, callback=None, bouncetime=None):
        self.calls.append(("add_event_detect", channel, edge, bouncetime))
        self._row(channel)
        if callback is not None and not callable(callback):
            raise TypeError("Callback Parameter must be callable")
        if self.config.get(channel) != IN:
            raise RuntimeError("You must setup() the GPIO channel as an input first")
        if edge not in (RISING, FALLING, BOTH):
            raise ValueError("The edge must be set to RISING, FALLING, or BOTH")
        if bouncetime is not None and (type(bouncetime) is not int or bouncetime < 0):
            raise TypeError("bouncetime must be an integer")
        if channel in self.detect:
            if self.flavour == "rpi":
                raise RuntimeError(
                    "Conflicting edge detection already enabled for this GPIO channel"
                )
            warnings.warn(
                "Warning: event is already added, ignore new added event",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        self.detect[channel] = (edge, callback)

    def remove_event_detect(self, channel, timeout=0.5):
        self.calls.append(("remove_event_detect", channel))
        self._row(channel)
        self.detect.pop(channel, None)

    def gpio_function(self, channel):
        self._row(channel)
        return self.config.get(channel, UNKNOWN)

    def cleanup(self, channel=None):
        self.calls.append(("cleanup", channel))
        if self.mode is None:
            warnings.warn(
                "No channels have been set up yet - nothing to clean up!",
                RuntimeWarning,
                stacklevel=2,
            )
            return
        if channel is None:
            for ch in list(self.config):
                self._cleanup_one(ch)
            self.mode = None
            return
        self._row(channel)
        if channel in self.config:
            self._cleanup_one(channel)

    def _cleanup_one(self, channel):
        self.config.pop(channel, None)
        self.detect.pop(channel, None)
        pwm = self.pwms.pop(channel, None)
        if pwm is not None:
            pwm.running = False

    def PWM(self, channel, frequency_hz):  # the real module's class is named PWM
        self.calls.append(("PWM", channel, frequency_hz))
        self._row(channel, need_pwm=True)
        if self.flavour == "jetson":
            if self.config.get(channel) == HARD_PWM:
                raise ValueError("Can't create duplicate PWM objects")
            if self.config.get(channel) in (IN, OUT):
                self.cleanup(channel)
            self.config[channel] = HARD_PWM
        elif self.config.get(channel) != OUT:
            raise RuntimeError("You must setup() the GPIO channel as an output first")
        pwm = self.pwms[channel] = _StandinPWM(self, channel, frequency_hz)
        return pwm

    # -- the hardware side, for tests -------------------------------------------------------

    def set_level(self, channel, level):
        """The outside world moves input ``channel`` to ``level``; callbacks fire as on hardware."""
        if self.config.get(channel) != IN:
            raise AssertionError(f"stand-in: channel {channel} is not an input")
        old, self.levels[channel] = self.levels[channel], level
        edge, callback = self.detect.get(channel, (None, None))
        wanted = {RISING: old < level, FALLING: old > level, BOTH: old != level}.get(edge)
        if callback is not None and wanted:
            for _ in range(2 if self.double_events else 1):
                self._queue(callback, channel)

    def _queue(self, callback, channel):
        with self._cond:
            self._events.append((callback, channel))
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _run(self):
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._events)
                callback, channel = self._events.popleft()
            try:
                callback(channel)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def wait_idle(self, timeout=5.0):
        """Wait until every queued edge callback has run."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)


class _StandinPWM:
    def __init__(self, gpio, channel, frequency_hz):
        self.gpio, self.channel = gpio, channel
        self.frequency, self.duty_cycle, self.running = frequency_hz, 0.0, False

    def _record(self, *call):
        self.gpio.calls.append(("PWM." + call[0], self.channel, *call[1:]))

    def start(self, duty_cycle_percent):
        self._record("start", duty_cycle_percent)
        self._check(duty_cycle_percent)
        self.duty_cycle, self.running = duty_cycle_percent, True

    def ChangeDutyCycle(self, duty_cycle_percent):
        self._record("ChangeDutyCycle", duty_cycle_percent)
        self._check(duty_cycle_percent)
        self.duty_cycle = duty_cycle_percent

    def ChangeFrequency(self, frequency_hz):
        self._record("ChangeFrequency", frequency_hz)
        self.frequency = frequency_hz

    def stop(self):
        self._record("stop")
        self.running = False

    @staticmethod
    def _check(duty):
        if not 0.0 <= duty <= 100.0:
            raise ValueError("dutycycle must have a value from 0.0 to 100.0")
