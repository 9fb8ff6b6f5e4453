"""Non-maximum suppression in numpy: greedy, vectorised per kept box, class-aware."""

import numpy as np

__all__ = ["box_iou", "nms"]


def box_iou(box, boxes):
    """IoU of one box (4,) against many (N x 4), all x1 y1 x2 y2."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return inter / np.maximum(union, 1e-9)


def nms(boxes, scores, iou_threshold, class_ids=None, max_detections=300):
    """Indices of the boxes kept, best score first.

    A box is dropped when it overlaps a better-scoring kept box by more than `iou_threshold`;
    with `class_ids`, only boxes of the same class suppress each other (each class is shifted
    to its own region of the plane, so one pass serves all classes).
    """
    boxes = np.asarray(boxes, np.float32)
    scores = np.asarray(scores, np.float32)
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    if class_ids is not None:
        span = float(boxes.max() - min(boxes.min(), 0.0)) + 1.0
        boxes = boxes + (np.asarray(class_ids, np.float32) * span)[:, None]
    order = np.argsort(-scores, kind="stable")
    keep = []
    while len(order) and len(keep) < max_detections:
        best = order[0]
        keep.append(best)
        rest = order[1:]
        order = rest[box_iou(boxes[best], boxes[rest]) <= iou_threshold]
    return np.array(keep, np.int64)
