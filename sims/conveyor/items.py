"""Items on the belt, and the seeded stream of items entering at its upstream end."""

import colorsys

from .shapes import CLASSES, DISTRACTOR, half_extents, shape


class Item:
    """One object on the belt. ``x``, ``y`` (mm) is its centre; ``hx``, ``hy`` its half extents.

    ``cls`` is one of :data:`~sims.conveyor.shapes.CLASSES` or ``"distractor"``; ``color`` is
    BGR 0..255; ``angle`` degrees; ``variant`` seeds per-item shape detail.
    """

    __slots__ = (
        "angle",
        "beside",
        "cls",
        "color",
        "hx",
        "hy",
        "id",
        "shape",
        "size",
        "spawn_t",
        "variant",
        "x",
        "y",
    )

    def __init__(self, id, cls, size, angle, color, y, variant, spawn_t):
        self.id, self.cls, self.size, self.angle, self.color = id, cls, size, angle, color
        self.y, self.variant, self.spawn_t = y, variant, spawn_t
        self.shape = shape(cls, size, variant)
        self.hx, self.hy = half_extents(self.shape.outline, angle)
        self.x = -self.hx  # front edge at the belt's upstream end: entering
        self.beside = set()  # diverters the item is passing right now

    @property
    def front(self):
        return self.x + self.hx

    @property
    def rear(self):
        return self.x - self.hx

    def __repr__(self):
        return "<Item %d %s %.0fmm at x=%.1f y=%.1f>" % (
            self.id,
            self.cls,
            self.size,
            self.x,
            self.y,
        )


class ItemStream:
    """The seeded sequence of entering items and the gaps between them.

    Everything about item n (class, size, angle, colour, position across the belt, the gap
    before the next) depends only on the seed and on n, never on the belt's motion.
    """

    def __init__(self, rng, cell, faults):
        self._rng = rng
        self._cell = cell
        self._faults = faults
        self._next_id = 0
        self._touching = False  # whether the next item enters touching the last one

    def next(self, previous, t):
        """The next item, and the gap (mm) between its rear and the next one's front."""
        rng, cell = self._rng, self._cell
        distractor = rng.uniform() < self._faults.distractors
        touch_next = rng.uniform() < self._faults.touching
        kind = CLASSES[rng.randint(len(CLASSES))]  # drawn always: faults do not shift the stream
        cls = DISTRACTOR if distractor else kind
        size = rng.uniform(*cell.item_size)
        angle = rng.uniform(0.0, 360.0)
        hue, sat, val = rng.uniform(), rng.uniform(0.05, 0.8), rng.uniform(0.55, 0.95)
        r, g, b = colorsys.hsv_to_rgb(hue, sat, val)
        color = (int(b * 255), int(g * 255), int(r * 255))
        variant = int(rng.randint(2**31))
        edge = cell.belt_width / 2
        y = rng.uniform(-edge, edge)
        gap = rng.uniform(*cell.item_gap)
        jitter = rng.uniform(-0.5, 0.5)
        item = Item(self._next_id, cls, size, angle, color, 0.0, variant, t)
        self._next_id += 1
        if self._touching and previous is not None:
            y = previous.y + jitter * (previous.hy + item.hy)
        item.y = min(max(y, -edge + item.hy), edge - item.hy)
        self._touching = touch_next
        return item, (0.0 if touch_next else gap)
