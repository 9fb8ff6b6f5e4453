"""The PCA9685 driver: 16 PWM outputs over I2C (servo boards, JetBot's motor HAT)."""

import time

from ..i2c import open_bus
from . import registers as r


class PCA9685:
    """A PCA9685 16-channel, 12-bit PWM controller.

    ``bus`` is a bus number (opened with :func:`hal.i2c.open_bus` and closed with the chip) or
    an open :class:`hal.i2c.I2CBus`. The default address 0x40 is a bare breakout board (address
    jumpers A0..A5 add 1..32); JetBot's Adafruit MotorHAT answers at 0x60. On the Jetson Nano
    header, pins 3 (SDA) and 5 (SCL) are bus 1.

    The chip is put in a known state on open: all outputs off, totem-pole outputs, register
    auto-increment, ``frequency`` Hz. All outputs go off on :meth:`close`.
    ``oscillator_hz`` calibrates a chip whose internal oscillator is off its nominal 25 MHz;
    ``sleep`` is how the driver waits the oscillator's 500 us start-up (a virtual clock's in
    simulation).
    """

    def __init__(self, bus=1, address=0x40, frequency=50.0, *, oscillator_hz=r.OSCILLATOR_HZ,
                 sleep=time.sleep):  # fmt: skip
        if isinstance(bus, int):
            bus, self._owns_bus = open_bus(bus), True
        else:
            self._owns_bus = False
        self.bus = bus
        self.address = address
        self.oscillator_hz = oscillator_hz
        self._sleep = sleep
        self._prescale = None
        self._counts = [0] * r.CHANNELS  # high time of each channel, in counter steps
        self._channels = {}
        self._mode1 = r.AI | r.ALLCALL  # the running mode this driver keeps
        try:
            self._write(r.ALL_LED_OFF_H, r.FULL)
            self._write(r.MODE2, r.OUTDRV)
            self.frequency = frequency
        except BaseException:
            self._release_bus()
            raise

    # -- frequency ------------------------------------------------------------------------

    @property
    def frequency(self):
        """The PWM frequency in Hz that the chip actually produces (shared by all channels).

        Setting it picks the nearest prescaler value (24..1526 Hz at 25 MHz); the chip sleeps
        for the change and restarts the outputs that were running, as the data sheet orders.
        Each channel keeps its duty cycle, so its pulse width scales with the period.
        """
        return r.frequency_of(self._prescale, self.oscillator_hz)

    @frequency.setter
    def frequency(self, hz):
        low, high = r.frequency_range(self.oscillator_hz)
        if not low * 0.99 <= hz <= high * 1.01:
            raise ValueError(
                f"PCA9685 frequency must be {low:.0f}..{high:.0f} Hz, not {hz!r}: the 8-bit "
                f"prescaler cannot divide the 25 MHz oscillator further"
            )
        prescale = min(max(r.prescale_for(hz, self.oscillator_hz), r.PRESCALE_MIN), r.PRESCALE_MAX)
        if prescale != self._prescale:
            self._set_prescale(prescale)

    def _set_prescale(self, prescale):
        self._write(r.MODE1, self._mode1 | r.SLEEP)  # PRE_SCALE is writable only in sleep
        self._write(r.PRE_SCALE, prescale)
        self._write(r.MODE1, self._mode1)
        self._sleep(r.OSCILLATOR_STARTUP_S)
        if self.bus.read_byte_data(self.address, r.MODE1) & r.RESTART:
            self._write(r.MODE1, self._mode1 | r.RESTART)  # resume the outputs that ran
        self._prescale = prescale

    # -- outputs --------------------------------------------------------------------------

    def channel(self, number):
        """Output ``number`` (0..15) as a PWM output object (frequency, duty_cycle, close())."""
        self._check_channel(number)
        if number not in self._channels:
            self._channels[number] = PCA9685Channel(self, number)
        return self._channels[number]

    def duty_cycle(self, channel):
        """The fraction of each period that ``channel`` is high, 0..1."""
        self._check_channel(channel)
        return self._counts[channel] / r.STEPS

    def set_duty_cycle(self, channel, duty):
        """Drive ``channel`` high for ``duty`` (0..1) of each period; 0 and 1 are steady levels."""
        if not 0.0 <= duty <= 1.0:
            raise ValueError(f"duty cycle must be 0..1, not {duty!r}")
        self._set_counts(channel, int(duty * r.STEPS + 0.5))

    def pulse_width_us(self, channel):
        """The high time of ``channel`` in microseconds at the current frequency."""
        return self.duty_cycle(channel) * 1e6 / self.frequency

    def set_pulse_width_us(self, channel, microseconds):
        """Drive ``channel`` with pulses ``microseconds`` long (servos: about 500..2500)."""
        period_us = 1e6 / self.frequency
        if not 0 <= microseconds <= period_us:
            raise ValueError(
                f"pulse width must be 0..{period_us:.0f} us (one period at "
                f"{self.frequency:.1f} Hz), not {microseconds!r}"
            )
        self._set_counts(channel, int(microseconds * r.STEPS / period_us + 0.5))

    def all_off(self):
        """Turn every output off with one write (ALL_LED_OFF_H full-off bit)."""
        self._write(r.ALL_LED_OFF_H, r.FULL)
        self._counts = [0] * r.CHANNELS

    def close(self):
        """Turn every output off and release the bus (if this driver opened it)."""
        if self.bus is None:
            return
        try:
            self.all_off()
        finally:
            self._release_bus()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"<PCA9685 0x{self.address:02x} on I2C bus {getattr(self.bus, 'bus_number', '?')}>"

    def _set_counts(self, channel, counts):
        self._check_channel(channel)
        if counts <= 0:
            data = [0, 0, 0, r.FULL]  # full off
        elif counts >= r.STEPS:
            data = [0, r.FULL, 0, 0]  # full on
        else:
            data = [0, 0, counts & 0xFF, counts >> 8]  # on at count 0, off at `counts`
        self.bus.write_i2c_block_data(self.address, r.led_on_l(channel), data)
        self._counts[channel] = min(max(counts, 0), r.STEPS)

    def _write(self, register, value):
        if self.bus is None:
            raise ValueError(f"{self!r} is closed: create a new PCA9685")
        self.bus.write_byte_data(self.address, register, value)

    def _release_bus(self):
        bus, self.bus = self.bus, None
        if self._owns_bus:
            bus.close()

    @staticmethod
    def _check_channel(number):
        if not (isinstance(number, int) and 0 <= number < r.CHANNELS):
            raise ValueError(f"PCA9685 channel must be 0..15, not {number!r}")


class PCA9685Channel:
    """One PCA9685 output as a PWM output: ``frequency``, ``duty_cycle``, ``close()``.

    Servo and Motor devices drive these as they drive a GPIO PWM pin. The frequency belongs to
    the chip: setting it on one channel changes it for all 16.
    """

    def __init__(self, chip, number):
        self.chip = chip
        self.number = number

    @property
    def frequency(self):
        """The chip's PWM frequency in Hz; setting it changes all 16 channels."""
        return self.chip.frequency

    @frequency.setter
    def frequency(self, hz):
        self.chip.frequency = hz

    @property
    def duty_cycle(self):
        """Fraction of each period the output is high, 0..1 (12-bit resolution)."""
        return self.chip.duty_cycle(self.number)

    @duty_cycle.setter
    def duty_cycle(self, duty):
        self.chip.set_duty_cycle(self.number, duty)

    @property
    def pulse_width_us(self):
        """High time of each pulse in microseconds."""
        return self.chip.pulse_width_us(self.number)

    @pulse_width_us.setter
    def pulse_width_us(self, microseconds):
        self.chip.set_pulse_width_us(self.number, microseconds)

    def close(self):
        """Turn this output off (the chip and the other channels stay as they are)."""
        if self.chip.bus is not None:
            self.chip.set_duty_cycle(self.number, 0.0)

    def __repr__(self):
        return f"<PCA9685Channel {self.number} of {self.chip!r}>"
