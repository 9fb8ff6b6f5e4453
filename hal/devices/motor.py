"""A DC motor on an H-bridge (L298N, TB6612FNG, DRV8833, a PCA9685-driven board)."""

from hal.devices.device import Device

__all__ = ["Motor"]


class Motor(Device):
    """A DC motor; ``value`` (speed) from -1 (full backward) to 1 (full forward).

    Two wirings:

    - ``Motor(forward=29, backward=31, enable=32)``: two direction pins (IN1/IN2) as digital
      outputs and the bridge's enable (ENA/PWMA) on a hardware PWM pin or PWM output.
      ``enable_pwm=False`` drives enable as a plain output (full speed only).
    - ``Motor(forward=a, backward=b)``: two PWM outputs (pins or objects such as PCA9685
      channels), one per bridge input, as on a DRV8833 or a motor HAT.

    :meth:`stop` coasts (bridge off, the motor spins down); :meth:`brake` shorts the motor
    (both inputs high) so it stops fast. Closing the motor stops it first.
    """

    def __init__(
        self, forward, backward, enable=None, enable_pwm=True, frequency=1000.0, factory=None
    ):
        super().__init__(factory)
        self._value = 0.0
        self._braking = False
        self._ready = False
        with self._building():
            if enable is None:
                self._a = self._pwm(forward, frequency)
                self._b = self._pwm(backward, frequency)
                self._enable = None
            else:
                self._a = self._pin(forward, "output")
                self._b = self._pin(backward, "output")
                if enable_pwm:
                    self._enable = self._pwm(enable, frequency)
                else:
                    self._enable = self._pin(enable, "output")
            self._drive(0.0, 0.0, 0.0)
            self._ready = True

    def _drive(self, a, b, enable):
        """Set bridge input A, input B (0..1) and enable (0..1), whatever the wiring."""
        if self._enable is None:
            self._a.duty_cycle, self._b.duty_cycle = a * enable, b * enable
            return
        if enable == 0.0:  # enable off first, so no intermediate state drives the motor
            self._write(self._enable, 0.0)
        self._a.state, self._b.state = int(a), int(b)
        self._write(self._enable, enable)

    @staticmethod
    def _write(output, level):
        if getattr(output, "function", "pwm") == "output":
            output.state = 1 if level > 0 else 0
        else:
            output.duty_cycle = level

    @property
    def value(self):
        """The speed, -1..1 (0 when stopped or braking)."""
        return self._value

    @value.setter
    def value(self, speed):
        self._check_open()
        speed = float(speed)
        if not -1.0 <= speed <= 1.0:
            raise ValueError(f"motor speed must be within -1..1, not {speed!r}")
        self._braking = False
        self._value = speed
        if speed > 0:
            self._drive(1.0, 0.0, speed)
        elif speed < 0:
            self._drive(0.0, 1.0, -speed)
        else:
            self._drive(0.0, 0.0, 0.0)

    def forward(self, speed=1.0):
        self.value = abs(speed)

    def backward(self, speed=1.0):
        self.value = -abs(speed)

    def reverse(self):
        self.value = -self._value

    def stop(self):
        """Coast: the bridge lets go and the motor spins down freely."""
        self.value = 0.0

    coast = stop

    def brake(self):
        """Short the motor's terminals through the bridge so it stops quickly."""
        self._check_open()
        self._value = 0.0
        self._braking = True
        self._drive(1.0, 1.0, 1.0)

    @property
    def is_active(self):
        return self._value != 0.0

    @property
    def is_braking(self):
        return self._braking

    def _shutdown(self):
        if self._ready:
            self._value = 0.0
            self._braking = False
            self._drive(0.0, 0.0, 0.0)
