"""The downward camera: its calibration, and the renderer that makes its frames cheap.

A frame is the belt texture (precomputed, shifted by the belt's travel, pre-blurred per
motion-blur length), the items' sprites (drawn once per item) pasted on small regions, then
lighting gain and sensor noise (a view into a precomputed noise bank) in one OpenCV pass.
"""

import collections
import math

import cv2
import numpy as np

from . import sprites
from .shapes import DISTRACTOR

Box = collections.namedtuple("Box", "item_id cls x0 y0 x1 y1 visibility")
Box.__doc__ = """An item as drawn in a frame: pixel box (end exclusive) clipped to the frame,
and ``visibility``, the fraction of the item inside the frame (1.0: whole)."""

NOISE_PAD = 64
NOISE_MID = 16
TEXTURE_PERIOD = 1024


class Calibration(collections.namedtuple("Calibration", "width height px_per_mm x0 y0")):
    """Pixels <-> belt millimetres for a camera looking straight down.

    Image column u, row v see belt point x = x0 + u / px_per_mm, y = y0 + v / px_per_mm
    (x along the belt, downstream to the right; y across it, bins' side down).
    """

    __slots__ = ()

    def to_pixels(self, x, y):
        return (x - self.x0) * self.px_per_mm, (y - self.y0) * self.px_per_mm

    def to_belt(self, u, v):
        return self.x0 + u / self.px_per_mm, self.y0 + v / self.px_per_mm

    def as_dict(self):
        return dict(self._asdict())


class CameraView:
    """Renders the camera of ``world`` (see :meth:`frame`) and says what it drew (:meth:`boxes`)."""

    def __init__(self, world):
        self.world = world
        cam = world.cell.camera
        self.cam = cam
        self.calibration = Calibration(
            cam.width, cam.height, cam.px_per_mm, cam.x0, -cam.height / 2.0 / cam.px_per_mm
        )
        _, top = self.calibration.to_pixels(0, -world.cell.belt_width / 2)
        _, bottom = self.calibration.to_pixels(0, world.cell.belt_width / 2)
        self.rows = (max(0, round(top)), min(cam.height, round(bottom)))
        self._background = _frame_rails(cam.width, cam.height, self.rows)
        self._texture = {
            1: _belt_texture(world.rng("texture"), self.rows[1] - self.rows[0], cam.width)
        }
        noise_rng = world.rng("noise")
        self._noise = _noise_bank(noise_rng, cam.height, cam.width, cam.noise)
        self._noise_rng = noise_rng
        self._fault_rng = world.rng("camera")
        light_rng = world.rng("lighting")
        self._light_phase = light_rng.uniform(0, 2 * math.pi, 2)
        self._sprites = {}  # (item id, blur) -> Sprite, for items in or near the view
        self._boxes = []
        self._last = None
        self._frozen = 0
        self.frames = 0  #: frames asked for (dropped and frozen ones included)

    # -- public -----------------------------------------------------------------------------

    def frame(self):
        """The next camera frame, or None if the camera dropped it (fault)."""
        self.frames += 1
        f = self.world.faults
        drop, freeze = self._fault_rng.uniform(size=2)  # drawn always: faults stay independent
        length = self._fault_rng.randint(f.freeze_frames[0], f.freeze_frames[1] + 1)
        if self._last is not None and (self._frozen or freeze < f.freeze):
            self._frozen = (self._frozen or length) - 1
            return self._last.copy()
        if drop < f.frame_drop:
            return None
        image = self.render()  # a new array: the caller may keep it, and publishing freezes it
        if f.freeze:  # a frozen camera repeats it: keep a copy of our own
            self._last = image.copy()
        return image

    def boxes(self, classes_only=True):
        """The :class:`Box` es of the items in the last frame rendered (distractors too, if
        ``classes_only`` is False)."""
        return [b for b in self._boxes if not (classes_only and b.cls == DISTRACTOR)]

    def render(self, items=True):
        """Render the camera's view now, faults aside (``items=False``: the bare belt)."""
        speed = abs(self.world.belt.speed) * (1 - self.world.faults.belt_slip)
        blur = max(1, round(speed * self.cam.exposure * self.cam.px_per_mm))
        frame = self._belt_view(self._blurred_texture(blur))
        self._boxes = self._paste_items(frame, blur) if items else []
        return self._finish(frame)

    def background(self):
        """The bare belt as the last frame rendered would show it without items (no light or
        noise): what a test compares a frame against."""
        return self._belt_view(self._texture[1])

    # -- internals ------------------------------------------------------------------------

    def _belt_view(self, texture):
        """A new frame: the rails, and between them `texture` shifted by the belt's travel."""
        top, bottom = self.rows
        offset = round(self.world.belt.travel * self.cam.px_per_mm) % TEXTURE_PERIOD
        start = (-offset) % TEXTURE_PERIOD
        frame = np.empty_like(self._background)
        frame[:top] = self._background[:top]
        frame[top:bottom] = texture[:, start : start + self.cam.width]
        frame[bottom:] = self._background[bottom:]
        return frame

    def light(self, t):
        """The lighting gain at time ``t`` (1: steady)."""
        a, b = self._light_phase
        wave = 0.6 * math.sin(2 * math.pi * t / 7.3 + a) + 0.4 * math.sin(2 * math.pi * t / 2.9 + b)
        return 1.0 + self.cam.lighting * wave

    def _finish(self, frame):
        gain = self.light(self.world.t)
        if self._noise is None:
            return frame if gain == 1.0 else cv2.convertScaleAbs(frame, alpha=gain)
        dy, dx = self._noise_rng.randint(0, NOISE_PAD, size=2)
        noise = self._noise[dy : dy + frame.shape[0], dx : dx + frame.shape[1]]
        return cv2.addWeighted(frame, gain, noise, 1.0, -NOISE_MID, dst=frame)

    def _blurred_texture(self, k):
        if k not in self._texture:
            self._texture[k] = _wrap_filter(self._texture[1], k, lambda a: cv2.blur(a, (k, 1)))
        return self._texture[k]

    def _paste_items(self, frame, blur):
        cal = self.calibration
        x_lo, x_hi = cal.x0, cal.x0 + cal.width / cal.px_per_mm
        _h, _w = frame.shape[:2]
        boxes, keep = [], {}
        for item in self.world.items:
            if item.x + item.hx < x_lo - 5 or item.x - item.hx > x_hi + 5:
                continue
            key = (item.id, blur)
            sprite = self._sprites.get(key) or self._sprite(item, blur)
            keep[key] = sprite
            u, v = cal.to_pixels(item.x, item.y)
            left = round(u - sprite.centre[0])
            top = round(v - sprite.centre[1])
            box = _paste(frame, sprite, left, top)
            if box is not None:
                boxes.append(Box(item.id, item.cls, *box))
        self._sprites = keep
        return boxes

    def _sprite(self, item, blur):
        base = self._sprites.get((item.id, 1)) or sprites.draw(item, self.cam.px_per_mm)
        return base if blur == 1 else base.blurred(blur)


def _paste(frame, sprite, left, top):
    """Blend ``sprite`` into ``frame`` with its top-left at (left, top); returns the clipped
    box and visibility, or None if nothing of it is in the frame."""
    h, w = frame.shape[:2]
    sh, sw = sprite.alpha.shape[:2]
    x0, y0, x1, y1 = max(left, 0), max(top, 0), min(left + sw, w), min(top + sh, h)
    if x0 >= x1 or y0 >= y1:
        return None
    _blend(frame, sprite, left, top, (x0, y0, x1, y1))
    a = sprite.alpha[y0 - top : y1 - top, x0 - left : x1 - left]
    bx0, by0, bx1, by1 = sprite.box
    box = (left + bx0, top + by0, left + bx1, top + by1)
    if box[0] < 0 or box[1] < 0 or box[2] > w or box[3] > h:  # cut by the frame's edge:
        ys, xs = np.nonzero(a[:, :, 0] >= sprites.BOX_ALPHA)  # the box of what is in view
        if not len(xs):
            return None
        box = (
            x0 + int(xs.min()),
            y0 + int(ys.min()),
            x0 + int(xs.max()) + 1,
            y0 + int(ys.max()) + 1,
        )
    visibility = float(a.sum()) / sprite.mass
    return (*box, round(visibility, 4))


def _blend(frame, sprite, left, top, visible):
    """frame = frame * (1 - alpha) + colour, rounded, where the sprite's support (at left,
    top) meets the `visible` box (x0, y0, x1, y1) of the frame."""
    sx0, sy0, sx1, sy1 = sprite.support
    x0, y0 = max(visible[0], left + sx0), max(visible[1], top + sy0)
    x1, y1 = min(visible[2], left + sx1), min(visible[3], top + sy1)
    if x0 >= x1 or y0 >= y1:
        return
    inside = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    roi = frame[y0:y1, x0:x1]
    out = np.multiply(roi, sprite.clear[inside], dtype=np.float32)
    out += sprite.color[inside]
    out += 0.5
    roi[...] = out


def _wrap_filter(image, pad, filter):
    """``filter`` applied to ``image`` as if its columns wrapped around."""
    padded = np.concatenate([image[:, -pad:], image, image[:, :pad]], axis=1)
    return np.ascontiguousarray(filter(padded)[:, pad:-pad])


def _belt_texture(rng, height, width):
    """Dark rubber with fine grain and faint scuffs, periodic along x (TEXTURE_PERIOD px)."""
    grain = rng.normal(0, 6, (height, TEXTURE_PERIOD)).astype(np.float32)
    grain = _wrap_filter(grain, 4, lambda a: cv2.GaussianBlur(a, (0, 0), 0.8))
    blotch = rng.normal(0, 1, (height // 16 + 1, TEXTURE_PERIOD // 16)).astype(np.float32)
    blotch = cv2.resize(
        np.concatenate([blotch, blotch[:, :1]], 1),
        (TEXTURE_PERIOD + 16, height),
        interpolation=cv2.INTER_CUBIC,
    )[:, :TEXTURE_PERIOD]
    base = 62 + grain + 5 * blotch
    for x in rng.randint(0, TEXTURE_PERIOD, 12):  # scuff marks across the belt
        base[:, x : x + 2] += rng.uniform(-8, 10)
    tile = np.clip(base, 0, 255).astype(np.uint8)
    tile = np.stack([tile, tile, (tile * 1.03).clip(0, 255).astype(np.uint8)], axis=2)
    return np.ascontiguousarray(np.concatenate([tile, tile[:, :width]], axis=1))


def _frame_rails(width, height, rows):
    """The static part of the view: aluminium side rails beyond the belt's edges."""
    frame = np.empty((height, width, 3), np.uint8)
    top, bottom = rows
    frame[:] = (150, 150, 145)
    frame[max(0, top - 4) : top] = (70, 70, 70)
    frame[bottom : bottom + 4] = (70, 70, 70)
    return frame


def _noise_bank(rng, height, width, sigma):
    """Sensor noise around NOISE_MID, larger than a frame so any offset view fits."""
    if not sigma:
        return None
    noise = rng.normal(NOISE_MID, sigma, (height + NOISE_PAD, width + NOISE_PAD, 3))
    return np.clip(np.round(noise), 0, 2 * NOISE_MID).astype(np.uint8)
