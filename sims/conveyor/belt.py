"""The belt drive: DC motor through an H-bridge (first-order lag), slip, and the encoder."""

import math


class Belt:
    """Belt speed follows the motor's duty with a first-order lag; the belt may slip.

    ``roller`` is the head roller's surface travel (what the encoder measures), ``travel`` the
    belt's own travel (what moves the items); they differ only under the slip fault.
    """

    def __init__(self, cell, faults, rng):
        self.motor = cell.motor
        self.slip = faults.belt_slip
        self.drift = faults.belt_drift
        self.drift_period = faults.drift_period
        self._phase = rng.uniform(0, 2 * math.pi)
        self.speed = 0.0  #: roller surface speed, mm/s (negative: running backwards)
        self.roller = 0.0
        self.travel = 0.0

    def gain(self, t):
        """The motor's speed factor at time ``t`` (1 without the drift fault)."""
        if not self.drift:
            return 1.0
        return 1.0 + self.drift * math.sin(2 * math.pi * t / self.drift_period + self._phase)

    def target_speed(self, duty, direction, powered, t):
        """The speed the belt settles at for ``duty`` (0..1) and ``direction`` (+1, -1, 0)."""
        m = self.motor
        if not powered or direction == 0 or duty <= m.deadband:
            return 0.0
        return direction * m.max_speed * self.gain(t) * (duty - m.deadband) / (1 - m.deadband)

    def advance(self, t, dt, duty, direction, powered):
        """Run ``dt`` seconds from ``t``; returns (roller travel, belt travel) in that time."""
        target = self.target_speed(duty, direction, powered, t)
        decay = math.exp(-dt / self.motor.time_constant)
        moved = target * dt + (self.speed - target) * self.motor.time_constant * (1 - decay)
        self.speed = target + (self.speed - target) * decay
        belt = moved * (1.0 - self.slip)
        self.roller += moved
        self.travel += belt
        return moved, belt


class Encoder:
    """A slotted wheel on the head roller: the output toggles every half pulse of travel."""

    def __init__(self, mm_per_pulse):
        self.half = mm_per_pulse / 2.0
        self.level = 0

    def edges(self, p0, p1, t0, t1):
        """[(t, level)] for roller travel from ``p0`` at ``t0`` to ``p1`` at ``t1``."""
        k0, k1 = math.floor(p0 / self.half), math.floor(p1 / self.half)
        if k0 == k1:
            return []
        if k1 > k0:
            crossings = [(k, k % 2) for k in range(k0 + 1, k1 + 1)]
        else:
            crossings = [(k, (k - 1) % 2) for k in range(k0, k1, -1)]
        out = []
        for k, level in crossings:
            f = (k * self.half - p0) / (p1 - p0)
            out.append((t0 + f * (t1 - t0), level))
        self.level = out[-1][1]
        return out
