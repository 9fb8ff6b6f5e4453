"""What each item class looks like from above: outline, holes and markings, in millimetres.

Classes differ by shape and markings only; colour, size and rotation are chosen per item,
independently of class (see :mod:`sims.conveyor.items`). A shape is drawn by
:mod:`sims.conveyor.sprites`.
"""

import collections
import math

import numpy as np

#: The classes a detector learns, in label order (YOLO class ids, COCO category ids - 1).
CLASSES = ("nut", "washer", "bolt", "bracket")
#: Objects that belong to no class (leaves, paper scraps): never labelled.
DISTRACTOR = "distractor"

Shape = collections.namedtuple("Shape", "outline holes marks")
Shape.__doc__ = """A shape centred on (0, 0), in mm, unrotated: ``outline`` an (N, 2) polygon;
``holes`` a list of (cx, cy, r) see-through circles; ``marks`` a list of (kind, geometry, shade):
("poly", (N, 2) array, shade) or ("circle", (cx, cy, r), shade) or ("ring", (cx, cy, r), shade),
shade multiplying the item's colour (<1 darker, >1 lighter)."""


def shape(cls, size, variant=0):
    """The :class:`Shape` of an item of class ``cls`` and ``size`` mm (its largest dimension).

    ``variant`` seeds the few shapes that vary within a class (distractors' outlines).
    """
    s = float(size)
    if cls == "nut":
        return Shape(
            _polygon(6, s / 2),
            [(0, 0, 0.26 * s)],
            [("ring", (0, 0, 0.40 * s), 1.25), ("ring", (0, 0, 0.30 * s), 0.55)],
        )
    if cls == "washer":
        return Shape(
            _polygon(48, s / 2),
            [(0, 0, 0.24 * s)],
            [("ring", (0, 0, 0.44 * s), 0.7), ("ring", (0, 0, 0.31 * s), 1.2)],
        )
    if cls == "bolt":
        return _bolt(s)
    if cls == "bracket":
        return _bracket(s)
    if cls == DISTRACTOR:
        return _blob(s, variant)
    raise ValueError("unknown item class %r: classes are %s" % (cls, ", ".join(CLASSES)))


def rotated(points, angle_deg):
    """``points`` (N, 2) rotated by ``angle_deg`` counter-clockwise as seen on screen."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.asarray(points, float) @ np.array([[c, -s], [s, c]])


def half_extents(outline, angle_deg):
    """Half width along x and half height along y of ``outline`` rotated by ``angle_deg``."""
    pts = rotated(outline, angle_deg)
    return float(np.abs(pts[:, 0]).max()), float(np.abs(pts[:, 1]).max())


def _polygon(n, radius, phase=0.0):
    t = phase + np.arange(n) * 2 * math.pi / n
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


def _bolt(s):
    """A hexagon head (flat side towards the shaft) and a threaded shaft, along x."""
    head_x, radius, half = -0.31 * s, 0.19 * s, 0.085 * s
    head = _polygon(6, radius, math.pi / 6) + np.array(
        [head_x, 0.0]
    )  # vertices at 30, 90, ..., 330 deg
    flat = head_x + radius * math.cos(math.pi / 6)
    outline = np.array(
        [[0.5 * s, -half], [0.5 * s, half], [flat, half], *head, [flat, -half]], float
    )  # the head's vertices run 30 .. 330 degrees: the flat side between 330 and 30 is open
    threads = [
        (
            "poly",
            np.array([[x, -half], [x + 0.02 * s, -half], [x + 0.02 * s, half], [x, half]]),
            0.55,
        )
        for x in np.arange(0.02, 0.47, 0.055) * s
    ]
    return Shape(outline, [], [("circle", (head_x, 0, 0.12 * s), 1.2), *threads])


def _bracket(s):
    t = 0.3
    outline = (
        np.array(
            [
                [-0.5, -0.5],
                [-0.5 + t, -0.5],
                [-0.5 + t, 0.5 - t],
                [0.5, 0.5 - t],
                [0.5, 0.5],
                [-0.5, 0.5],
            ]
        )
        * s
    )
    holes = [(-0.35 * s, -0.22 * s, 0.07 * s), (0.22 * s, 0.35 * s, 0.07 * s)]
    bend = np.array([[-0.5, 0.5 - t], [-0.5 + t, 0.5 - t], [-0.5 + t, 0.5], [-0.5, 0.5]]) * s
    return Shape(outline, holes, [("poly", bend, 1.18)])


def _blob(s, variant):
    rng = np.random.RandomState(variant % (2**32))
    n = rng.randint(7, 13)
    t = np.sort(rng.uniform(0, 2 * math.pi, n))
    r = s / 2 * rng.uniform(0.45, 1.0, n)
    return Shape(np.stack([r * np.cos(t), r * np.sin(t)], axis=1), [], [])
