"""A top-down picture of the whole cell: belt, items coloured by true class, beams, paddles,
camera window, bins with their contents, and the status line (time, speed, e-stop, LED)."""

import math

import cv2
import numpy as np

from .shapes import CLASSES, DISTRACTOR, rotated

#: Overview colours per class (BGR): the overview shows truth, so colour follows class here.
CLASS_COLORS = {
    "nut": (60, 180, 255),
    "washer": (255, 200, 60),
    "bolt": (90, 220, 90),
    "bracket": (200, 110, 255),
    DISTRACTOR: (150, 150, 150),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def draw_overview(world, width=640, height=480):
    """The overview of ``world`` as a BGR image of ``width`` x ``height``."""
    cell = world.cell
    img = np.full((height, width, 3), 245, np.uint8)
    scale = (width - 30) / (cell.belt_length + 90.0)
    top = int(height * 0.3)

    def px(x, y):
        x, y = 10 + float(x) * scale, top + (float(y) + cell.belt_width / 2) * scale
        return round(x), round(y)

    x0, y0 = px(0, -cell.belt_width / 2)
    x1, y1 = px(cell.belt_length, cell.belt_width / 2)
    cv2.rectangle(img, (x0, y0), (x1, y1), (70, 70, 70), -1)
    cal = world.calibration
    cx0, cy0 = px(cal.x0, cal.y0)
    cx1, cy1 = px(*cal.to_belt(cal.width, cal.height))
    cv2.rectangle(img, (cx0, cy0), (cx1, cy1), (0, 215, 255), 1)
    cv2.putText(img, "camera", (cx0 + 2, cy0 - 4), FONT, 0.35, (0, 140, 200), 1, cv2.LINE_AA)
    for beam in world.beams:
        color = (0, 0, 230) if beam.level == 0 else (0, 200, 0)
        cv2.line(
            img, px(beam.x, -cell.belt_width / 2 - 6), px(beam.x, cell.belt_width / 2 + 6), color, 1
        )
    _bins(img, world, px, scale)
    for item in world.items:
        pts = rotated(item.shape.outline, item.angle) + np.array([item.x, item.y])
        poly = np.array([px(x, y) for x, y in pts], np.int32)
        cv2.fillPoly(img, [poly], CLASS_COLORS[item.cls], cv2.LINE_AA)
    for i, paddle in enumerate(world.paddles):
        start, _ = cell.zone(i)
        pivot = (start, -cell.belt_width / 2)
        angle = math.radians(paddle.angle)
        across = cell.belt_width * 0.95 / math.sin(math.radians(cell.servo.extended_deg))
        length = across * max(paddle.extension, 0.3)  # drawn telescoping, to stay readable
        end = (pivot[0] + length * math.cos(angle), pivot[1] + length * math.sin(angle))
        color = (0, 0, 200) if 0.1 < paddle.extension < 0.95 else (30, 30, 30)
        cv2.line(img, px(*pivot), px(*end), color, 3, cv2.LINE_AA)
        cv2.circle(img, px(*pivot), 4, (30, 30, 30), -1)
    status = "t %.2f s  belt %.0f mm/s  %s  LED %s  items %d" % (
        world.t,
        world.belt.speed,
        "E-STOP" if world.estop_pressed else "run",
        "on" if world.led else "off",
        len(world.truth.items),
    )
    cv2.putText(img, status, (10, 20), FONT, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
    for n, cls in enumerate([*CLASSES, DISTRACTOR]):
        x = 10 + n * 100
        cv2.rectangle(img, (x, 32), (x + 10, 42), CLASS_COLORS[cls], -1)
        cv2.putText(img, cls, (x + 14, 41), FONT, 0.4, (20, 20, 20), 1, cv2.LINE_AA)
    return img


def _bins(img, world, px, scale):
    cell = world.cell
    below = cell.belt_width / 2 + 12
    places = [(i, cell.zone(i)) for i in range(len(world.paddles))]
    places.append(("reject", (cell.belt_length + 5, cell.belt_length + 85)))
    for name, (start, end) in places:
        a, b = px(start, below), px(end, below + 110)
        cv2.rectangle(img, a, b, (120, 120, 120), 1)
        label = "reject" if name == "reject" else "bin %d" % name
        cv2.putText(img, label, (a[0] + 2, a[1] + 12), FONT, 0.35, (20, 20, 20), 1, cv2.LINE_AA)
        contents = world.bins[name]
        for k, item in enumerate(contents[-24:]):
            cx, cy = a[0] + 6 + (k % 4) * 8, a[1] + 20 + (k // 4) * 8
            cv2.circle(img, (cx, cy), 3, CLASS_COLORS[item.cls], -1)
        cv2.putText(
            img, str(len(contents)), (a[0] + 2, b[1] - 4), FONT, 0.4, (20, 20, 20), 1, cv2.LINE_AA
        )
