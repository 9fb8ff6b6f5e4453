"""Model families: how each lays out its outputs and the defaults it was trained with.

| family         | outputs                         | resize    | input        | conf | IoU  |
|----------------|---------------------------------|-----------|--------------|------|------|
| yolov5         | [1, N, 5 + nc]                  | letterbox | RGB / 255    | 0.25 | 0.45 |
| yolov8, yolo11 | [1, 4 + nc, N]                  | letterbox | RGB / 255    | 0.25 | 0.7  |
| ssd            | scores [1, N, C], boxes [1,N,4] | plain     | (RGB-127)/128| 0.5  | 0.45 |

The thresholds are Ultralytics' predict defaults (YOLO) and jetson-inference's (SSD).
"""

import collections

from . import decoders
from .preprocess import SSD, YOLO

__all__ = ["FAMILIES", "Family", "get", "guess"]


class Family(
    collections.namedtuple("Family", "name decode conf iou resize normalization class_offset")
):
    """A model family. `class_offset` is how many leading label lines are not classes (the
    SSD's BACKGROUND)."""

    __slots__ = ()


FAMILIES = collections.OrderedDict(
    (f.name, f)
    for f in (
        Family("yolov5", decoders.decode_yolov5, 0.25, 0.45, "letterbox", YOLO, 0),
        Family("yolov8", decoders.decode_yolov8, 0.25, 0.7, "letterbox", YOLO, 0),
        Family("ssd", decoders.decode_ssd, 0.5, 0.45, "plain", SSD, 1),
    )
)
ALIASES = {"yolo11": "yolov8", "yolov11": "yolov8", "yolov5u": "yolov8", "ssd-mobilenet": "ssd"}


def get(name):
    """The Family called `name` (aliases: yolo11 -> yolov8, ...)."""
    key = ALIASES.get(str(name).lower(), str(name).lower())
    try:
        return FAMILIES[key]
    except KeyError:
        raise ValueError(
            "unknown model family %r; known: %s" % (name, ", ".join(list(FAMILIES) + list(ALIASES)))
        ) from None


def guess(outputs):
    """The Family of a model from its outputs [(name, shape), ...]; shapes may hold None
    for dynamic dimensions. Returns None when the shapes cannot tell (dynamic), raises
    ValueError when no family has such outputs."""
    outputs = [(name, tuple(shape)) for name, shape in outputs]
    names = {name for name, _ in outputs}
    if len(outputs) == 2 and (
        {"scores", "boxes"} <= names or any(s[-1:] == (4,) and len(s) == 3 for _, s in outputs)
    ):
        return FAMILIES["ssd"]
    if len(outputs) == 1 and len(outputs[0][1]) == 3:
        _, a, b = outputs[0][1]
        if a is None or b is None:
            return None
        return FAMILIES["yolov8"] if a < b else FAMILIES["yolov5"]
    raise ValueError(
        "cannot tell the family of a model with outputs %s: YOLOv5 has one [1, N, 5+nc], "
        "YOLOv8/11 one [1, 4+nc, N], SSD two (scores, boxes); set `family` in the model card"
        % ", ".join("%s %s" % (n, list(s)) for n, s in outputs)
    )
