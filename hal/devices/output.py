"""Outputs: DigitalOutput (a relay, a solenoid) and LED (with blink and PWM brightness)."""

import threading

from hal.devices.device import Device

__all__ = ["LED", "DigitalOutput"]


class DigitalOutput(Device):
    """An on/off output. ``active_high=False`` for loads that switch on when the pin is low
    (many relay boards); on close the output is left off (inactive)."""

    def __init__(self, pin, active_high=True, initial=False, factory=None):
        super().__init__(factory)
        self.active_high = active_high
        with self._building():
            self.pin = self._claim(pin)
            self.pin.release_state = 0 if active_high else 1
            self._set(1.0 if initial else 0.0)

    def _claim(self, pin):
        return self._pin(pin, "output")

    def _set(self, value):
        self.pin.state = 1 if bool(value) == self.active_high else 0

    @property
    def value(self):
        """1 when on, 0 when off."""
        return int(bool(self.pin.state) == self.active_high)

    @value.setter
    def value(self, value):
        self._check_open()
        self._set(value)

    @property
    def is_active(self):
        return bool(self.value)

    def on(self):
        self.value = 1

    def off(self):
        self.value = 0

    def toggle(self):
        self.value = not self.is_active

    def _shutdown(self):
        pin = self.__dict__.get("pin")
        if pin is not None and getattr(pin, "function", "pwm"):
            self._set(0)


class LED(DigitalOutput):
    """An LED (through a resistor) on a GPIO pin.

    ``pwm=True`` drives it from a hardware PWM pin so ``value`` (brightness) can be 0..1.
    :meth:`blink` runs on the factory's clock in the background; on/off/toggle stop it.
    """

    def __init__(
        self, pin, active_high=True, initial=False, pwm=False, frequency=1000.0, factory=None
    ):
        self._pwm_mode = pwm
        self._frequency = frequency
        self._blink_timer = None
        self._blink_done = threading.Event()
        super().__init__(pin, active_high, initial, factory)

    def _claim(self, pin):
        if self._pwm_mode:
            return self._pwm(pin, self._frequency)
        return super()._claim(pin)

    def _set(self, value):
        if self._pwm_mode:
            value = float(value)
            self.pin.duty_cycle = value if self.active_high else 1.0 - value
        else:
            super()._set(value)

    @property
    def value(self):
        if not self._pwm_mode:
            return super().value
        duty = self.pin.duty_cycle
        return duty if self.active_high else 1.0 - duty

    @value.setter
    def value(self, value):
        self._check_open()
        self._stop_blink()
        self._set(value)

    @property
    def is_lit(self):
        return self.value > 0

    is_active = is_lit

    def toggle(self):
        self.value = 0 if self.is_lit else 1

    def blink(self, on_time=1.0, off_time=1.0, n=None, background=True):
        """Blink ``n`` times (forever if None): on for ``on_time`` s, off for ``off_time`` s.

        With ``background=False`` this returns when done (needs a finite ``n`` and a clock
        that moves by itself, such as the default wall clock).
        """
        self._check_open()
        with self._lock:
            self._stop_blink()
            self._blink_done.clear()
            self._blink_step(True, on_time, off_time, n)
        if not background:
            self._blink_done.wait()

    def _blink_step(self, lit, on_time, off_time, remaining):
        with self._lock:
            if self.closed:
                return
            if remaining == 0:
                self._blink_timer = None
                self._blink_done.set()
                return
            self._set(1.0 if lit else 0.0)
            if not lit and remaining is not None:
                remaining -= 1
            delay = on_time if lit else off_time
            self._blink_timer = self.factory.clock.call_later(
                delay, lambda: self._blink_step(not lit, on_time, off_time, remaining)
            )

    def _stop_blink(self):
        with self._lock:
            if self._blink_timer is not None:
                self._blink_timer.cancel()
                self._blink_timer = None
                self._blink_done.set()

    def _shutdown(self):
        self._stop_blink()
        super()._shutdown()
