"""The cell's fixed build: belt, motor, encoder, camera mount, diverters and their servos.

Belt coordinates are millimetres: ``x`` along the belt from its upstream end (items enter at
x = 0 and fall off at ``belt_length``), ``y`` across it from the centre line, positive towards
the bins' side. Everything a hobbyist would measure on the bench is a field here; the defaults
are a bench build about a metre long.
"""

import dataclasses
from typing import Tuple


@dataclasses.dataclass(frozen=True)
class Motor:
    """A DC gear motor behind an H-bridge, driving the belt's head roller."""

    max_speed: float = 250.0  #: belt speed at full duty, mm/s
    deadband: float = 0.1  #: duty below which the motor does not turn
    time_constant: float = 0.25  #: first-order lag of belt speed behind duty, s


@dataclasses.dataclass(frozen=True)
class Servo:
    """The hobby servo of each diverter paddle (pulse width -> angle, slew-limited)."""

    min_pulse_us: float = 500.0  #: pulse for 0 degrees
    max_pulse_us: float = 2500.0  #: pulse for ``range_deg``
    range_deg: float = 180.0
    seconds_per_60deg: float = 0.12  #: the data-sheet speed (no load)
    retracted_deg: float = 0.0  #: paddle parallel to the belt edge
    extended_deg: float = 60.0  #: paddle across the belt

    def angle_for(self, pulse_us):
        """The angle a pulse of ``pulse_us`` microseconds commands, clamped to the travel."""
        span = self.max_pulse_us - self.min_pulse_us
        angle = (pulse_us - self.min_pulse_us) / span * self.range_deg
        return min(max(angle, 0.0), self.range_deg)

    def pulse_for(self, angle_deg):
        """The pulse width in microseconds that commands ``angle_deg``."""
        span = self.max_pulse_us - self.min_pulse_us
        return self.min_pulse_us + angle_deg / self.range_deg * span


@dataclasses.dataclass(frozen=True)
class Camera:
    """The downward camera: image size, frame rate, and where it looks (its calibration)."""

    width: int = 640
    height: int = 480
    fps: float = 30.0
    px_per_mm: float = 2.4  #: scale at the belt surface
    x0: float = 20.0  #: belt x (mm) seen at the image's left edge
    exposure: float = 0.008  #: shutter time, s (motion blur = speed * exposure)
    noise: float = 3.0  #: sensor noise, standard deviation in grey levels (0: none)
    lighting: float = 0.08  #: amplitude of slow brightness changes (0: steady light)


@dataclasses.dataclass(frozen=True)
class Cell:
    """The whole build. ``diverters`` are the paddles' x positions along the belt (mm)."""

    belt_length: float = 1000.0
    belt_width: float = 180.0
    motor: Motor = Motor()
    mm_per_pulse: float = 2.0  #: belt travel per encoder pulse (one rising edge)
    camera: Camera = Camera()
    diverters: Tuple[float, ...] = (450.0, 600.0, 750.0)
    paddle_reach: float = 60.0  #: length of belt a paddle sweeps (its zone), mm
    beam_upstream: float = 70.0  #: each break-beam sits this far upstream of its paddle, mm
    servo: Servo = Servo()
    item_size: Tuple[float, float] = (24.0, 44.0)  #: range of item sizes, mm
    #: range of gaps between items (rear to front), mm: a feeder's spacing; 100 mm clears the
    #: 83 mm a paddle needs at 140 mm/s (docs/sorter.md, "Item spacing")
    item_gap: Tuple[float, float] = (100.0, 200.0)

    def __post_init__(self):
        if not self.diverters:
            raise ValueError("a cell needs at least one diverter position")
        if list(self.diverters) != sorted(self.diverters):
            raise ValueError(
                "diverter positions must be listed upstream first, got %r" % (self.diverters,)
            )
        first, last = self.diverters[0], self.diverters[-1]
        view_end = self.camera.x0 + self.camera.width / self.camera.px_per_mm
        if first - self.beam_upstream - self.paddle_reach / 2 < view_end:
            raise ValueError(
                "the first beam (x=%g mm) must lie downstream of the camera's view (ends at "
                "x=%g mm): move the diverters down the belt"
                % (first - self.beam_upstream, view_end)
            )
        if last + self.paddle_reach / 2 > self.belt_length:
            raise ValueError(
                "the last diverter (x=%g mm) overhangs the belt end (x=%g mm)"
                % (last, self.belt_length)
            )

    @property
    def beams(self):
        """The break-beams' x positions, one just upstream of each diverter."""
        return tuple(x - self.beam_upstream for x in self.diverters)

    def zone(self, diverter):
        """(start, end) along the belt of the stretch diverter ``diverter`` sweeps."""
        x = self.diverters[diverter]
        return x - self.paddle_reach / 2, x + self.paddle_reach / 2

    def replace(self, **changes):
        """A copy with some fields changed (``camera=``/``motor=``/``servo=`` take dicts too)."""
        for name in ("camera", "motor", "servo"):
            if isinstance(changes.get(name), dict):
                changes[name] = dataclasses.replace(getattr(self, name), **changes[name])
        return dataclasses.replace(self, **changes)
