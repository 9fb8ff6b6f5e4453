"""The conveyor sorting cell as a plain, seedable model: ``step(dt)``, state, ``render()``.

    world = World(seed=1)
    world.set_motor(0.6, direction=1)          # H-bridge: PWM duty and direction
    world.set_servo(0, 1167)                   # diverter 0's servo pulse, microseconds
    edges = world.step(1 / 30)                 # [Edge(t, "encoder", 1), Edge(t, "beam0", 0)...]
    frame = world.render()                     # the camera's BGR image now (None: dropped)
    print(world.truth.report())

The world knows nothing of pins, nodes or clocks: inputs are method calls, the app-readable
signals come back from :meth:`World.step` as timed :class:`Edge` s (levels as on the wire:
beams, e-stop and start button are active low), and time is whatever ``step`` is told.
:mod:`sims.conveyor.hardware` wires them to hal's simulated pins, I2C chip and camera.
"""

import collections

import numpy as np

from .beams import BreakBeam
from .belt import Belt, Encoder
from .camera import CameraView
from .cell import Cell
from .faults import STREAMS, Faults
from .items import ItemStream
from .paddle import CLEAR, FULL, Paddle
from .truth import DIVERTED, FELL_THROUGH, JAMMED, RETURNED, GroundTruth

Edge = collections.namedtuple("Edge", "t signal level")
Edge.__doc__ = """An input line the app reads changed: at ``t`` (s) ``signal`` ("encoder",
"beam0".., "estop", "start") went to ``level`` (0/1)."""

#: Longest physics step, s: edges are timed exactly inside it, actuation is sampled at its end.
MAX_SUBSTEP = 0.005


class World:
    """The cell (:class:`~sims.conveyor.cell.Cell`), its items, and their fate.

    Same ``seed``, same faults and the same sequence of calls give the same items, frames and
    outcome, bit for bit.
    """

    def __init__(self, cell=None, seed=0, faults=None):
        self.cell = cell if cell is not None else Cell()
        self.faults = faults if faults is not None else Faults()
        self.seed = int(seed)
        self.t = 0.0
        n = len(self.cell.diverters)
        f = self.faults
        self.belt = Belt(self.cell, f, self.rng("belt"))
        self.encoder = Encoder(self.cell.mm_per_pulse)
        servo_rng = self.rng("servos")
        self.paddles = [
            Paddle(self.cell.servo, servo_rng, f.slow_servo, f.sticky_servo, f.stick_time)
            if f.servo_is_faulty(i)
            else Paddle(self.cell.servo, servo_rng)
            for i in range(n)
        ]
        beam_rng = self.rng("beams")
        self.beams = [BreakBeam(x, beam_rng, f.beam_bounce) for x in self.cell.beams]
        self.truth = GroundTruth(n)
        self.items = []  # on the belt, upstream first
        self.bins = {b: [] for b in [*range(n), "reject"]}  # items that landed, per bin
        self.duty, self.direction = 0.0, 0
        self.estop_pressed = False
        self.start_pressed = False
        self.led = 0
        self._stream = ItemStream(self.rng("items"), self.cell, f)
        self._fed = 0.0  # forward belt travel so far (items enter by travel, not time)
        self._next_item_at = 0.0
        self._pending = []  # edges caused by calls between steps
        self.camera = CameraView(self)

    def rng(self, stream):
        """A fresh random generator for ``stream`` (one of faults.STREAMS), from the seed."""
        return np.random.RandomState([self.seed & 0xFFFFFFFF, STREAMS.index(stream)])

    # -- what the app drives ---------------------------------------------------------------

    def set_motor(self, duty, direction=1):
        """H-bridge input: PWM ``duty`` 0..1, ``direction`` +1 forward, -1 back, 0 brake."""
        self.duty, self.direction = min(max(float(duty), 0.0), 1.0), direction

    def set_servo(self, diverter, pulse_us):
        """Diverter ``diverter``'s servo now gets ``pulse_us`` us pulses (0: no pulses)."""
        self.paddles[diverter].command(float(pulse_us), self.t)

    def set_led(self, level):
        self.led = 1 if level else 0

    # -- what a person does ----------------------------------------------------------------

    def press_estop(self):
        """Push the e-stop: it latches, the motor loses power, the line goes low."""
        if not self.estop_pressed:
            self.estop_pressed = True
            self._pending.append(Edge(self.t, "estop", 0))

    def reset_estop(self):
        """Twist the e-stop out: the line goes high; the motor gets power again."""
        if self.estop_pressed:
            self.estop_pressed = False
            self._pending.append(Edge(self.t, "estop", 1))

    def press_start(self, pressed=True):
        """Hold (or with ``pressed=False`` release) the start button (active low)."""
        if pressed != self.start_pressed:
            self.start_pressed = pressed
            self._pending.append(Edge(self.t, "start", 0 if pressed else 1))

    def levels(self):
        """Every input signal's current level, e.g. for initialising simulated pins."""
        levels = {
            "encoder": self.encoder.level,
            "estop": 0 if self.estop_pressed else 1,
            "start": 0 if self.start_pressed else 1,
        }
        levels.update(("beam%d" % i, b.level) for i, b in enumerate(self.beams))
        return levels

    # -- time ------------------------------------------------------------------------------

    def step(self, dt):
        """Advance ``dt`` seconds; returns the input :class:`Edge` s of that time, in order."""
        if dt < 0:
            raise ValueError("a world cannot step back in time (dt=%r)" % dt)
        edges, self._pending = self._pending, []
        end = self.t + dt
        while end - self.t > 1e-12:
            self._substep(min(MAX_SUBSTEP, end - self.t), edges)
        self.t = end
        edges.sort(key=lambda e: e.t)
        return edges

    def _substep(self, h, edges):
        t0, t1 = self.t, self.t + h
        roller0 = self.belt.roller
        _, moved = self.belt.advance(t0, h, self.duty, self.direction, not self.estop_pressed)
        edges.extend(
            Edge(t, "encoder", v) for t, v in self.encoder.edges(roller0, self.belt.roller, t0, t1)
        )
        moves = []
        for item in self.items:
            moves.append((item, item.x, item.x + moved))
            item.x += moved
        for i, beam in enumerate(self.beams):
            changes, entered = beam.update(moves, t0, t1)
            edges.extend(Edge(t, "beam%d" % i, v) for t, v in changes)
            for item, t in entered:
                self.truth.beam(item.id, i, t)
        for paddle in self.paddles:
            paddle.advance(t0, h)
        self.t = t1
        for item in list(self.items):
            self._interact(item, edges)
        self._feed(moved)

    def _interact(self, item, edges):
        """Diverters act on ``item``; it falls off either end."""
        for i, paddle in enumerate(self.paddles):
            start, end = self.cell.zone(i)
            if i in item.beside:
                if item.rear >= end or item.front < start:
                    item.beside.discard(i)
                elif paddle.extension > CLEAR:  # extended onto an item already beside it
                    return self._remove(item, None, JAMMED, edges)
            elif item.front >= start and item.rear < end:  # arrives at the paddle
                if paddle.extension >= FULL:
                    return self._remove(item, i, DIVERTED, edges)
                if paddle.extension > CLEAR:  # runs into a paddle on its way out
                    return self._remove(item, None, JAMMED, edges)
                item.beside.add(i)
        if item.x > self.cell.belt_length:
            return self._remove(item, "reject", FELL_THROUGH, edges)
        if item.front < 0 and self.belt.speed < 0:
            return self._remove(item, None, RETURNED, edges)
        return None

    def _remove(self, item, bin, reason, edges):
        self.items.remove(item)
        if bin is not None:
            self.bins[bin].append(item)
        self.truth.ended(item.id, bin, reason, self.t)
        for i, beam in enumerate(self.beams):
            edges.extend(Edge(self.t, "beam%d" % i, v) for _, v in beam.forget(item))

    def _feed(self, moved):
        """Items enter at the upstream end, spaced by belt travel."""
        if moved <= 0:
            return
        self._fed += moved
        while self._fed >= self._next_item_at:
            previous = self.items[0] if self.items else None
            item, gap = self._stream.next(previous, self.t)
            item.x += self._fed - self._next_item_at  # entered a little before the step ended
            self.items.insert(0, item)
            self.truth.spawned(item)
            self._next_item_at += 2 * item.hx + gap

    # -- seeing ----------------------------------------------------------------------------

    @property
    def calibration(self):
        """The camera's :class:`~sims.conveyor.camera.Calibration` (pixels <-> belt mm)."""
        return self.camera.calibration

    def render(self):
        """The camera's frame now (BGR uint8, height x width x 3), or None if it was dropped."""
        return self.camera.frame()

    def overview(self, width=640, height=480):
        """A top-down picture of the whole cell with true classes, paddles and bins."""
        from .overview import draw_overview

        return draw_overview(self, width, height)
