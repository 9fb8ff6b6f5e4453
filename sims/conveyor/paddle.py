"""A diverter paddle on a hobby servo: angle follows the commanded pulse at a limited slew."""

#: Extension (0..1) at or above which a paddle deflects an item arriving at it.
FULL = 0.95
#: Extension above which a paddle is in the item's way (hits it, or strikes one beside it).
CLEAR = 0.1


class Paddle:
    """The servo and the paddle on its horn.

    :meth:`command` sets the target from a pulse width (0 us: no pulses, the servo holds where
    it is); :meth:`advance` moves the angle toward the target at the servo's slew rate. Faults:
    a slow servo slews ``1 + slow`` times slower; a sticky one ignores a new target for
    ``stick_time`` seconds with probability ``sticky``.
    """

    def __init__(self, servo, rng, slow=0.0, sticky=0.0, stick_time=0.0):
        self.servo = servo
        self.rate = 60.0 / servo.seconds_per_60deg / (1.0 + slow)  # degrees per second
        self.angle = servo.retracted_deg
        self.target = servo.retracted_deg
        self.pulse_us = 0.0
        self._rng, self._sticky, self._stick_time = rng, sticky, stick_time
        self._stuck_until = -1.0

    @property
    def extension(self):
        """0 (retracted) .. 1 (fully across the belt)."""
        s = self.servo
        e = (self.angle - s.retracted_deg) / (s.extended_deg - s.retracted_deg)
        return min(max(e, 0.0), 1.0)

    def command(self, pulse_us, t):
        """The servo sees pulses of ``pulse_us`` microseconds from time ``t`` on."""
        self.pulse_us = pulse_us
        if pulse_us <= 0:
            return
        target = self.servo.angle_for(pulse_us)
        if target != self.target and self._sticky and self._rng.uniform() < self._sticky:
            self._stuck_until = t + self._stick_time
        self.target = target

    def advance(self, t, dt):
        if t + dt <= self._stuck_until:
            return
        if t < self._stuck_until:
            dt = t + dt - self._stuck_until
        step = self.rate * dt
        delta = self.target - self.angle
        self.angle = (
            self.target if abs(delta) <= step else self.angle + step * (1 if delta > 0 else -1)
        )
