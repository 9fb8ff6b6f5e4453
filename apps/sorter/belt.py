"""The belt as the io node knows it: travel and speed from encoder pulses, and the loop that
holds a speed set point."""

import collections

__all__ = ["Odometer", "SpeedController"]


class Odometer:
    """Belt travel and speed from the times of encoder pulses (one per `mm_per_pulse`).

    Speed comes from the spacing of the pulses in the last `window` seconds (precise even at a
    few pulses per window, unlike a count); with no pulse for a while it falls as 1/gap, so a
    stopping belt reads as stopping. Position interpolates between pulses at that speed but
    never reaches the next pulse's travel, so it only grows while the belt runs forward.
    `direction` (+1/-1) signs travel and speed: a single-channel encoder cannot tell.
    """

    def __init__(self, mm_per_pulse, window=0.1):
        self.mm_per_pulse = float(mm_per_pulse)
        self.window = float(window)
        self.pulses = 0
        self.direction = 1
        self._base_mm = 0.0  # travel at the last direction change
        self._since_base = 0
        self._times = collections.deque()

    def pulse(self, t):
        """One pulse at time `t` (seconds)."""
        self.pulses += 1
        self._since_base += 1
        self._times.append(t)
        while len(self._times) > 2 and self._times[0] < t - self.window:
            self._times.popleft()

    def set_direction(self, direction):
        if direction and direction != self.direction:
            self._base_mm = self._travel()
            self._since_base = 0
            self.direction = 1 if direction > 0 else -1

    def _travel(self):
        return self._base_mm + self.direction * self._since_base * self.mm_per_pulse

    def speed(self, now):
        """Belt speed at `now`, mm/s (signed by `direction`)."""
        times = self._times
        if len(times) < 2:
            return 0.0
        interval = (times[-1] - times[0]) / (len(times) - 1)
        gap = now - times[-1]
        if gap > interval:  # slower than the last pulses say: bound it by the silence
            interval = gap
        return self.direction * self.mm_per_pulse / interval if interval > 0 else 0.0

    def position(self, now):
        """Belt travel since start at `now`, mm."""
        extra = 0.0
        if self._times:
            extra = abs(self.speed(now)) * (now - self._times[-1])
            extra = min(extra, 0.999 * self.mm_per_pulse)
        return self._travel() + self.direction * extra


class SpeedController:
    """Motor duty for a belt speed set point: a calibrated feed-forward (duty for a speed, from
    the motor's top speed and dead band) plus a PI correction on the measured speed. The
    integral only acts near the set point (within `band` of it, as a fraction) and is clamped
    to +-`limit`, so it corrects drift without winding up while the belt gets going."""

    def __init__(self, max_speed, deadband, kp, ki, limit=0.3, band=0.1):
        self.max_speed = float(max_speed)
        self.deadband = float(deadband)
        self.kp, self.ki, self.limit, self.band = float(kp), float(ki), float(limit), band
        self.integral = 0.0

    def feedforward(self, setpoint):
        """The duty that gives `setpoint` mm/s on the calibrated motor (0 for 0)."""
        if setpoint <= 0:
            return 0.0
        return self.deadband + (1.0 - self.deadband) * min(setpoint / self.max_speed, 1.0)

    def duty(self, setpoint, measured, dt):
        """The duty (0..1) for the next `dt` seconds."""
        if setpoint <= 0:
            self.reset()
            return 0.0
        error = setpoint - measured
        if abs(error) <= self.band * setpoint:
            self.integral += self.ki * error * dt
        self.integral = min(max(self.integral, -self.limit), self.limit)
        duty = self.feedforward(setpoint) + self.kp * error + self.integral
        return min(max(duty, 0.0), 1.0)

    def reset(self):
        self.integral = 0.0
