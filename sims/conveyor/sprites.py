"""Item sprites: each item drawn once, at its size, rotation and colour, for the camera to paste.

A sprite is antialiased (drawn at 4x and reduced), shaded by a light from the upper left, and
kept premultiplied (colour x alpha) so pasting it is one multiply-add on a small region.
"""

import cv2
import numpy as np

from .shapes import rotated

SUPERSAMPLE = 4
#: Alpha at or above which a pixel counts as part of the item (its bounding box).
BOX_ALPHA = 0.25


class Sprite:
    """``color`` (h, w, 3) float32 premultiplied, ``alpha`` (h, w, 1) float32 0..1, ``centre``
    (cx, cy) the item centre in sprite pixels, ``box`` (x0, y0, x1, y1) the item's extent
    (pixels with alpha >= BOX_ALPHA, end exclusive), ``mass`` the sum of alpha.

    For pasting: ``clear`` (h, w, 3) float32 is 1 - alpha, and ``support`` (x0, y0, x1, y1)
    the box of the pixels with any alpha (outside it, colour is 0 too: a paste changes nothing).
    """

    __slots__ = ("alpha", "box", "centre", "clear", "color", "mass", "support")

    def __init__(self, color, alpha, centre):
        self.color, self.alpha, self.centre = color, alpha, centre
        self.box = _extent(alpha[:, :, 0] >= BOX_ALPHA)
        self.mass = float(alpha.sum())
        self.clear = np.repeat(1.0 - alpha, 3, axis=2)
        self.support = _extent(alpha[:, :, 0] > 0)

    def blurred(self, k):
        """This sprite smeared over ``k`` pixels along x (motion blur)."""
        pad = k // 2 + 1
        color = cv2.copyMakeBorder(self.color, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=0)
        alpha = cv2.copyMakeBorder(self.alpha, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=0)
        color = cv2.blur(color, (k, 1), borderType=cv2.BORDER_CONSTANT)
        alpha = cv2.blur(alpha, (k, 1), borderType=cv2.BORDER_CONSTANT)
        return Sprite(
            color, alpha.reshape(alpha.shape[0], -1, 1), (self.centre[0] + pad, self.centre[1])
        )


def _extent(mask):
    """(x0, y0, x1, y1) of the true pixels of `mask`, end exclusive."""
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def draw(item, px_per_mm):
    """The :class:`Sprite` of ``item`` at ``px_per_mm``."""
    ss = SUPERSAMPLE
    half = int(np.ceil(max(item.hx, item.hy) * px_per_mm)) + 2
    n = 2 * half * ss
    scale = px_per_mm * ss
    centre = np.array([half * ss, half * ss], float)

    def pts(points):
        return np.round(rotated(points, item.angle) * scale + centre).astype(np.int32)

    def circle(img, c, value, thickness=-1):
        x, y = pts([c[:2]])[0]
        cv2.circle(img, (int(x), int(y)), round(c[2] * scale), value, thickness, cv2.LINE_8)

    shp = item.shape
    mask = np.zeros((n, n), np.uint8)
    cv2.fillPoly(mask, [pts(shp.outline)], 255)
    shade = np.full((n, n), 128, np.uint8)  # 128 = 1.0
    cv2.polylines(shade, [pts(shp.outline)], True, 90, max(1, int(0.6 * scale)))  # dark rim
    ring = max(1, round(0.035 * item.size * scale))
    for kind, geometry, value in shp.marks:
        level = int(min(255, 128 * value))
        if kind == "poly":
            cv2.fillPoly(shade, [pts(geometry)], level)
        else:
            circle(shade, geometry, level, -1 if kind == "circle" else ring)
    for hole in shp.holes:
        circle(mask, hole, 0)
    size = (2 * half, 2 * half)
    alpha = cv2.resize(mask, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    light = cv2.resize(shade, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 128
    u = np.linspace(-1, 1, 2 * half, dtype=np.float32)
    light *= 1.0 + 0.12 * (u[None, :] * -0.6 + u[:, None] * -0.8)  # lit from the upper left
    color = np.asarray(item.color, np.float32)
    premult = np.clip(light[:, :, None] * color, 0, 255) * alpha[:, :, None]
    return Sprite(premult, alpha[:, :, None], (float(half), float(half)))
