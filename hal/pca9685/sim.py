"""A simulated PCA9685: the chip's register map, and the outputs those registers produce.

Attach it to a simulated bus and drive it with the real driver (or any code that speaks to the
chip)::

    bus = SimI2CBus(1)
    chip = bus.attach(0x40, SimPCA9685(clock=world.now))
    ...
    chip.output(0)        # ChannelOutput(frequency=50.03, duty=0.075, pulse_us=1498.2)
    chip.history(0)       # every change of channel 0, with its time on ``clock``

Modelled as the data sheet describes: power-on register values (asleep, all outputs full off,
200 Hz prescaler); MODE1's SLEEP, AI and RESTART bits, including RESTART being set when the
chip sleeps with outputs running and cleared by writing 1 after the oscillator's 500 us
start-up; PRE_SCALE writes ignored unless asleep and raised to at least 3; auto-increment
(LED15_OFF_H and PRE_SCALE wrap to MODE1) and, without it, every byte landing on one register;
ALL_LED registers writing all channels and reading zero; full-on and full-off bits (full off
wins); MODE2's INVRT; reserved registers not acknowledged. Not modelled: EXTCLK, OCH=1 update
timing, the sub-addresses and the all-call address answering on the bus.
"""

import collections
import threading
import time

from ..i2c.errors import EREMOTEIO, I2CError
from . import registers as r

ChannelOutput = collections.namedtuple("ChannelOutput", "frequency duty pulse_us")
ChannelOutput.__doc__ = """What one output pin does: PWM frequency in Hz (0 while the chip's
oscillator is stopped), fraction of each period it is high, and high time in microseconds."""

Change = collections.namedtuple("Change", "time channel output")
Change.__doc__ = """A channel's output changed at ``time`` (seconds on the chip's clock)."""

STOPPED = ChannelOutput(0.0, 0.0, 0.0)


class DatasheetViolation(RuntimeError):
    """The chip was driven in a way the data sheet forbids; a real chip would misbehave."""


class SimPCA9685:
    """A PCA9685 as an I2C device for :class:`hal.i2c.SimI2CBus`.

    ``clock`` is a callable returning seconds (a virtual clock in tests and simulated worlds);
    changes of each channel's output are recorded with its time and passed to the callbacks
    registered with :meth:`watch`. ``oscillator_hz`` is the internal oscillator's frequency.
    """

    def __init__(self, clock=time.monotonic, oscillator_hz=r.OSCILLATOR_HZ):
        self._clock = clock
        self.oscillator_hz = oscillator_hz
        self._regs = bytearray(256)
        for register, value in r.POWER_ON.items():
            self._regs[register] = value
        self._woke_at = None  # clock time SLEEP was last cleared; None while asleep
        self._lock = threading.Lock()
        self._watchers = []
        now = clock()
        self._outputs = [self._derive(n) for n in range(r.CHANNELS)]
        self._history = [Change(now, n, out) for n, out in enumerate(self._outputs)]

    # -- what a test or a simulated world observes ----------------------------------------

    def output(self, channel):
        """The current :class:`ChannelOutput` of ``channel`` (0..15)."""
        return self._outputs[channel]

    def history(self, channel=None):
        """Recorded :class:`Change` s (of one channel, or all), oldest first, from creation."""
        with self._lock:
            return [c for c in self._history if channel is None or c.channel == channel]

    def watch(self, callback):
        """Call ``callback(change)`` on every later change of any output."""
        self._watchers.append(callback)

    def register(self, address):
        """The stored value of register ``address``, without a bus transfer."""
        return self._regs[address]

    @property
    def sleeping(self):
        return bool(self._regs[r.MODE1] & r.SLEEP)

    @property
    def frequency(self):
        """The PWM frequency the prescaler selects, in Hz (whether or not the chip runs)."""
        return r.frequency_of(self._regs[r.PRE_SCALE], self.oscillator_hz)

    # -- the I2C side (called by the bus) -------------------------------------------------

    def read(self, register, length):
        with self._lock:
            auto_increment = self._regs[r.MODE1] & r.AI
            data = []
            for _ in range(length):
                self._check_acknowledged(register)
                is_all_led = r.ALL_LED_ON_L <= register <= r.ALL_LED_OFF_H
                data.append(0 if is_all_led else self._regs[register])
                register = _next(register) if auto_increment else register
            return data

    def write(self, register, data):
        with self._lock:
            auto_increment = self._regs[r.MODE1] & r.AI
            for value in data:
                self._check_acknowledged(register)
                self._store(register, value)
                register = _next(register) if auto_increment else register
            changes = self._update_outputs()  # outputs follow at the I2C STOP (OCH = 0)
        for change in changes:
            for callback in list(self._watchers):
                callback(change)

    def __repr__(self):
        state = "asleep" if self.sleeping else f"{self.frequency:.1f} Hz"
        return f"<SimPCA9685 {state}>"

    # -- the chip's behaviour -------------------------------------------------------------

    @staticmethod
    def _check_acknowledged(register):
        if r.LED15_OFF_H < register < r.ALL_LED_ON_L:
            raise I2CError(
                EREMOTEIO,
                f"the PCA9685 does not acknowledge reserved register 0x{register:02x}: "
                f"registers are 0x00..0x45 and 0xfa..0xff",
            )

    def _store(self, register, value):
        if register == r.MODE1:
            self._store_mode1(value)
        elif register == r.PRE_SCALE:
            if self.sleeping:  # writes are blocked while the oscillator runs
                self._regs[r.PRE_SCALE] = max(value, r.PRESCALE_MIN)
        elif r.ALL_LED_ON_L <= register <= r.ALL_LED_OFF_H:
            for channel in range(r.CHANNELS):
                self._regs[r.led_on_l(channel) + register - r.ALL_LED_ON_L] = value
            self._regs[r.MODE1] &= ~r.RESTART & 0xFF  # a PWM register write ends restart
        elif r.LED0_ON_L <= register <= r.LED15_OFF_H:
            self._regs[register] = value
            self._regs[r.MODE1] &= ~r.RESTART & 0xFF
        elif register == r.TEST_MODE:
            raise DatasheetViolation(
                "TestMode register 0xff written: the data sheet reserves it (unpredictable results)"
            )
        else:
            self._regs[register] = value

    def _store_mode1(self, value):
        if value & r.EXTCLK:
            raise NotImplementedError("the simulated PCA9685 does not model an external clock")
        old = self._regs[r.MODE1]
        new = (value & ~r.RESTART) | (old & r.RESTART)  # RESTART is cleared by writing 1 only
        if new & r.SLEEP and not old & r.SLEEP:
            self._woke_at = None
            if any(self._running(n) for n in range(r.CHANNELS)):
                new |= r.RESTART  # outputs were running: remember them for a restart
        elif old & r.SLEEP and not new & r.SLEEP:
            self._woke_at = self._clock()
        if value & r.RESTART and new & r.RESTART:
            self._check_restart_allowed(new)
            new &= ~r.RESTART
        self._regs[r.MODE1] = new

    def _check_restart_allowed(self, mode1):
        if mode1 & r.SLEEP:
            raise DatasheetViolation("RESTART written while SLEEP is set: clear SLEEP first")
        awake = self._clock() - self._woke_at
        if awake < r.OSCILLATOR_STARTUP_S:
            raise DatasheetViolation(
                f"RESTART written {awake * 1e6:.0f} us after SLEEP was cleared: the oscillator "
                f"needs 500 us to start"
            )

    def _running(self, channel):
        return not self._regs[r.led_on_l(channel) + 3] & r.FULL

    def _derive(self, channel):
        mode1 = self._regs[r.MODE1]
        if mode1 & (r.SLEEP | r.RESTART):  # oscillator off, or outputs held for a restart
            return STOPPED
        base = r.led_on_l(channel)
        on_l, on_h, off_l, off_h = self._regs[base : base + 4]
        if off_h & r.FULL:
            duty = 0.0
        elif on_h & r.FULL:
            duty = 1.0
        else:
            on, off = on_l | (on_h & 0x0F) << 8, off_l | (off_h & 0x0F) << 8
            duty = ((off - on) % r.STEPS) / r.STEPS
        if self._regs[r.MODE2] & r.INVRT:
            duty = 1.0 - duty
        frequency = self.frequency
        return ChannelOutput(frequency, duty, duty * 1e6 / frequency)

    def _update_outputs(self):
        now = self._clock()
        changes = []
        for channel in range(r.CHANNELS):
            output = self._derive(channel)
            if output != self._outputs[channel]:
                self._outputs[channel] = output
                changes.append(Change(now, channel, output))
        self._history.extend(changes)
        return changes


def _next(register):
    """The register auto-increment moves to after ``register``."""
    if register in (r.LED15_OFF_H, r.PRE_SCALE, r.TEST_MODE):
        return r.MODE1
    return register + 1
