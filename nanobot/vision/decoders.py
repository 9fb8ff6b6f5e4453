"""Raw detector outputs -> candidate boxes (before NMS), one function per output layout.

Each decoder takes the model's outputs (name -> array, batch of one), the confidence
threshold and the input size (height, width), and returns boxes (N x 4, x1 y1 x2 y2 in
model-input pixels), scores (N,) and class ids (N,) of the candidates above the threshold.

- YOLOv5: one output [1, N, 5 + nc]: cx, cy, w, h (input pixels), objectness, class scores;
  a candidate's score is objectness x its best class score.
- YOLOv8 / YOLO11: one output [1, 4 + nc, N]: cx, cy, w, h, class scores (no objectness).
- SSD (jetson-inference's pytorch-ssd export): `scores` [1, N, C] softmaxed with class 0 the
  background, `boxes` [1, N, 4] x1 y1 x2 y2 normalised to 0..1. Class ids come out without
  the background: id 0 is the first real class.
"""

import numpy as np

__all__ = ["decode_ssd", "decode_yolov5", "decode_yolov8"]


def _single(outputs, layout):
    if len(outputs) != 1:
        raise ValueError(
            "a %s model has one output, this one has %d (%s)"
            % (layout, len(outputs), ", ".join(outputs))
        )
    out = next(iter(outputs.values()))
    if out.ndim != 3 or out.shape[0] != 1:
        raise ValueError(
            "a %s output is [1, ...] in 3 dimensions, not %s" % (layout, list(out.shape))
        )
    return out[0]


def _xywh_to_xyxy(xywh):
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, 0:2] - half, xywh[:, 0:2] + half], axis=1)


def decode_yolov5(outputs, conf, input_size):
    rows = _single(outputs, "YOLOv5")
    if rows.shape[1] < 6:
        raise ValueError("a YOLOv5 output row holds 5 + classes values, not %d" % rows.shape[1])
    rows = rows[rows[:, 4] > conf]
    cls = rows[:, 5:] * rows[:, 4:5]
    ids = cls.argmax(axis=1)
    scores = cls[np.arange(len(rows)), ids]
    keep = scores > conf
    return _xywh_to_xyxy(rows[keep, :4]), scores[keep], ids[keep]


def decode_yolov8(outputs, conf, input_size):
    cols = _single(outputs, "YOLOv8")
    if cols.shape[0] < 5:
        raise ValueError("a YOLOv8 output holds 4 + classes rows, not %d" % cols.shape[0])
    cls = cols[4:]
    ids = cls.argmax(axis=0)
    scores = cls[ids, np.arange(cls.shape[1])]
    keep = scores > conf
    return _xywh_to_xyxy(cols[:4, keep].T), scores[keep], ids[keep]


def ssd_outputs(outputs):
    """(scores [N, C], boxes [N, 4]) of an SSD model, found by name or else by shape."""
    scores = outputs.get("scores")
    boxes = outputs.get("boxes")
    if scores is None or boxes is None:
        arrays = list(outputs.values())
        if len(arrays) != 2:
            raise ValueError(
                "an SSD model has two outputs (scores, boxes), this one has %d" % len(arrays)
            )
        boxes, scores = sorted(arrays, key=lambda a: a.shape[-1] != 4)
        if boxes.shape[-1] != 4:
            raise ValueError("neither SSD output is boxes [1, N, 4]")
    if scores.ndim != 3 or boxes.shape != (*scores.shape[:2], 4):
        raise ValueError(
            "SSD outputs must be scores [1, N, C] and boxes [1, N, 4], not %s and %s"
            % (list(scores.shape), list(boxes.shape))
        )
    return scores[0], boxes[0]


def decode_ssd(outputs, conf, input_size):
    scores, boxes = ssd_outputs(outputs)
    classes = scores[:, 1:]  # column 0 is the background
    ids = classes.argmax(axis=1)
    best = classes[np.arange(len(classes)), ids]
    keep = best > conf
    h, w = input_size
    scale = np.array([w, h, w, h], np.float32)
    return boxes[keep] * scale, best[keep], ids[keep]
