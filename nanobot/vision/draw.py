"""Drawing detections on a frame (for an annotated image topic or `nanobot detect run`)."""

import numpy as np

from . import _cv2

__all__ = ["annotate", "class_color"]


def class_color(class_id):
    """A distinct, stable BGR colour for a class id."""
    cv2 = _cv2.require("drawing detections")
    hsv = np.uint8([[[(int(class_id) * 47) % 180, 200, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def annotate(image, detections):
    """A copy of BGR `image` with each detection's box, label and score drawn on it."""
    cv2 = _cv2.require("drawing detections")
    out = np.array(image, copy=True)
    for i in range(len(detections)):
        x1, y1, x2, y2 = (round(float(v)) for v in detections.boxes[i])
        color = class_color(detections.class_ids[i])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2)
        text = "%s %.2f" % (detections.label(i), float(detections.scores[i]))
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(y1 - th - base, 0)
        cv2.rectangle(out, (x1, top), (x1 + tw, top + th + base), color, -1)
        cv2.putText(
            out, text, (x1, top + th), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA
        )
    return out
