"""Fault injection: the things that go wrong on a real bench, each off by default.

Every fault draws from its own random stream derived from the world's seed, so turning one on
changes nothing else: the item stream and the other faults stay as they were.
"""

import dataclasses
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Faults:
    """Which faults to inject and how hard. All zero (the default): a perfect cell."""

    frame_drop: float = 0.0  #: probability that a camera frame is lost
    freeze: float = 0.0  #: probability per frame that the camera freezes (repeats a frame)
    freeze_frames: Tuple[int, int] = (3, 15)  #: how many frames a freeze lasts (range)
    belt_drift: float = 0.0  #: relative amplitude of slow motor speed drift (0.1: +-10 %)
    drift_period: float = 20.0  #: seconds per drift cycle
    belt_slip: float = 0.0  #: fraction of the roller's travel the belt loses (encoder reads high)
    slow_servo: float = 0.0  #: extra slew time of faulty servos (1.0: twice as slow)
    sticky_servo: float = 0.0  #: probability that a faulty servo ignores a new command a while
    stick_time: float = 0.3  #: how long a sticky servo ignores a command, s
    servos: Optional[Tuple[int, ...]] = None  #: which diverters' servos are faulty (None: all)
    beam_bounce: float = 0.0  #: probability that a beam edge bounces (extra short pulses)
    touching: float = 0.0  #: probability that an item enters touching the one before it
    distractors: float = 0.0  #: probability that an entering object belongs to no class

    def __post_init__(self):
        for name in (
            "frame_drop",
            "freeze",
            "sticky_servo",
            "beam_bounce",
            "touching",
            "distractors",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError("fault %s is a probability 0..1, not %r" % (name, value))
        for name in ("belt_drift", "belt_slip"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError("fault %s must be within 0..1 (exclusive)" % name)
        if self.slow_servo < 0:
            raise ValueError("fault slow_servo is extra slew time (>= 0), not %r" % self.slow_servo)

    def servo_is_faulty(self, diverter):
        return self.servos is None or diverter in self.servos

    @classmethod
    def parse(cls, text):
        """Faults from ``"frame_drop=0.1,belt_slip=0.05"`` (the CLI's --faults)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            if name not in fields or not value:
                raise ValueError(
                    "a fault is NAME=VALUE with NAME one of %s; got %r" % (", ".join(fields), part)
                )
            values[name] = float(value)
        return cls(**values)


#: Independent random streams, one per concern (see ``World.rng``).
STREAMS = ("items", "camera", "texture", "noise", "lighting", "belt", "servos", "beams")
