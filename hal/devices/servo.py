"""Hobby servos on a hardware PWM pin (Jetson Nano: 32, 33) or on any PWM output object.

A "PWM output" is anything with ``frequency`` (Hz), ``duty_cycle`` (0..1) and ``close()``: a
GPIO Pin, or a PCA9685 channel (hal.pca9685). The servo owns it and closes it on close.
"""

from hal.devices.device import Device

__all__ = ["AngularServo", "Servo"]


class Servo(Device):
    """``value`` -1 (``min_pulse_width``) .. 0 (centre) .. 1 (``max_pulse_width``); None detaches
    (duty 0: the servo goes limp). Pulse widths and ``frame_width`` in seconds (50 Hz: 0.02)."""

    def __init__(
        self,
        pwm,
        initial_value=0.0,
        min_pulse_width=1e-3,
        max_pulse_width=2e-3,
        frame_width=20e-3,
        factory=None,
    ):
        if not 0 < min_pulse_width < max_pulse_width < frame_width:
            raise ValueError(
                f"servo pulse widths must satisfy 0 < min ({min_pulse_width:g} s) < "
                f"max ({max_pulse_width:g} s) < frame ({frame_width:g} s)"
            )
        super().__init__(factory)
        self.min_pulse_width = min_pulse_width
        self.max_pulse_width = max_pulse_width
        self.frame_width = frame_width
        self._value = None
        with self._building():
            self.output = self._pwm(pwm, 1.0 / frame_width)
            self.value = initial_value

    @property
    def frequency(self):
        return 1.0 / self.frame_width

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value):
        self._check_open()
        if value is None:
            self.output.duty_cycle = 0.0
            self._value = None
            return
        if not -1.0 <= value <= 1.0:
            raise ValueError(f"servo value must be within -1..1 (or None to detach), not {value!r}")
        self._value = float(value)
        self.output.duty_cycle = self.pulse_width / self.frame_width

    @property
    def pulse_width(self):
        """The current pulse width in seconds (None when detached)."""
        if self._value is None:
            return None
        span = self.max_pulse_width - self.min_pulse_width
        return self.min_pulse_width + span * (self._value + 1.0) / 2.0

    def min(self):
        self.value = -1.0

    def mid(self):
        self.value = 0.0

    def max(self):
        self.value = 1.0

    def detach(self):
        self.value = None

    @property
    def is_active(self):
        return self._value is not None

    def _shutdown(self):
        if getattr(self, "output", None) is not None:
            self.output.duty_cycle = 0.0
            self._value = None


class AngularServo(Servo):
    """A servo set by ``angle`` in degrees: ``min_angle`` at the minimum pulse width,
    ``max_angle`` at the maximum (swap them to reverse the direction)."""

    def __init__(self, pwm, initial_angle=0.0, min_angle=-90.0, max_angle=90.0, **kwargs):
        if min_angle == max_angle:
            raise ValueError(f"min_angle and max_angle must differ (both are {min_angle:g})")
        self.min_angle = min_angle
        self.max_angle = max_angle
        initial = None if initial_angle is None else self._to_value(initial_angle)
        super().__init__(pwm, initial_value=initial, **kwargs)

    def _to_value(self, angle):
        low, high = sorted((self.min_angle, self.max_angle))
        if not low <= angle <= high:
            raise ValueError(f"angle must be within {low:g}..{high:g} degrees, not {angle!r}")
        return 2.0 * (angle - self.min_angle) / (self.max_angle - self.min_angle) - 1.0

    @property
    def angle(self):
        if self.value is None:
            return None
        return self.min_angle + (self.value + 1.0) / 2.0 * (self.max_angle - self.min_angle)

    @angle.setter
    def angle(self, angle):
        self.value = None if angle is None else self._to_value(angle)
