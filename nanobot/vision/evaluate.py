"""Detector quality against ground truth: matching, average precision, precision and recall.

    ev = Evaluation(class_names, conf=0.25)
    for sample in samples:                      # nanobot.vision.datasets.Sample
        ev.add(detector.detect(sample.image), sample.boxes, sample.class_ids,
               sample.visibility)
    print(ev.summary())                         # mAP@0.5, mAP@0.5:0.95, per class ...

Matching is COCO's: per image and class, detections in falling score order each take the
unmatched ground-truth box they overlap most, if that IoU reaches the threshold; a detection
that takes none is a false positive. AP is COCO's 101-point interpolated area under the
precision envelope; mAP averages it over the classes that have ground truth, and
mAP@0.5:0.95 also over the IoU thresholds 0.50, 0.55, ..., 0.95.

Run the detector at a low confidence threshold (0.001, as Ultralytics validates) for AP;
precision and recall are reported at the operating threshold `conf`, the one the detector
is deployed with. Ground truth whose `visibility` (the fraction of the object inside the
frame) is below `min_visibility` is "difficult" as in PASCAL VOC: finding it is not
required and a detection that matches it counts neither way. Recall on fully visible
objects (visibility >= FULL) is reported on its own.
"""

import numpy as np

__all__ = [
    "FULL",
    "IOU_THRESHOLDS",
    "Evaluation",
    "average_precision",
    "iou_matrix",
    "match",
]

IOU_THRESHOLDS = np.round(np.arange(0.5, 0.96, 0.05), 2)  #: 0.50 ... 0.95, COCO's
FULL = 0.999  #: visibility from which an object counts as fully visible
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def iou_matrix(a, b):
    """IoU of every box in a [M, 4] with every box in b [N, 4] (x1 y1 x2 y2): [M, N]."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-12)


def match(det_boxes, det_scores, gt_boxes, iou_threshold, gt_ignore=None):
    """Greedy matching of one image's detections of one class to its ground truth.

    Returns (det_state [N] with 1 true positive, 0 false positive, -1 matched a difficult
    box; gt_matched [M] bool). Ground truth that is not difficult is preferred, as in COCO.
    """
    n, m = len(det_boxes), len(gt_boxes)
    state = np.zeros(n, np.int8)
    taken = np.zeros(m, bool)
    if not n or not m:
        return state, taken
    ignore = np.zeros(m, bool) if gt_ignore is None else np.asarray(gt_ignore, bool)
    ious = iou_matrix(det_boxes, gt_boxes)
    for d in np.argsort(-np.asarray(det_scores), kind="stable"):
        for pool in (~ignore, ignore):
            candidates = np.where(pool & ~taken & (ious[d] >= iou_threshold))[0]
            if len(candidates):
                g = candidates[np.argmax(ious[d, candidates])]
                taken[g] = True
                state[d] = -1 if ignore[g] else 1
                break
    return state, taken


def average_precision(scores, true_positive, num_gt):
    """COCO's 101-point interpolated AP of detections (scores [N], true_positive [N] bool)
    over `num_gt` ground-truth objects; nan when there are none."""
    if num_gt == 0:
        return float("nan")
    if not len(scores):
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(true_positive, np.float64)[order]
    tps, fps = np.cumsum(tp), np.cumsum(1.0 - tp)
    recall = tps / num_gt
    precision = tps / (tps + fps)
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    at = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.where(at < len(envelope), envelope[np.minimum(at, len(envelope) - 1)], 0.0)
    return float(sampled.mean())


class Evaluation:
    """Accumulates detections and ground truth image by image; `summary()` gives the figures.

    `conf` is the operating threshold for precision and recall; `min_visibility` the
    visibility below which ground truth is difficult (not required, not penalised).
    """

    def __init__(self, class_names, conf=0.25, min_visibility=0.0):
        self.class_names = list(class_names)
        self.conf, self.min_visibility = conf, min_visibility
        nc, nt = len(self.class_names), len(IOU_THRESHOLDS)
        self._scores = [[] for _ in range(nc)]
        self._states = [[] for _ in range(nc)]  # per detection: state at each IoU threshold
        self._num_gt = np.zeros(nc, np.int64)
        self._full = np.zeros((nc, 2), np.int64)  # fully visible: (found at conf, total)
        self.images = 0
        self._nt = nt

    def add(self, detections, gt_boxes, gt_class_ids, gt_visibility=None):
        """One image: `detections` (nanobot.msgs.Detections, or anything with boxes, scores
        and class_ids) and its ground truth (boxes [M, 4] pixels, class ids [M], visibility
        [M] or None for all fully visible)."""
        gt_boxes = np.asarray(gt_boxes, np.float64).reshape(-1, 4)
        gt_ids = np.asarray(gt_class_ids, np.int64).reshape(-1)
        vis = np.ones(len(gt_ids)) if gt_visibility is None else np.asarray(gt_visibility)
        ids = np.asarray(detections.class_ids, np.int64)
        self.images += 1
        for c in range(len(self.class_names)):
            d, g = ids == c, gt_ids == c
            boxes, scores = np.asarray(detections.boxes)[d], np.asarray(detections.scores)[d]
            ignore = vis[g] < self.min_visibility
            states = np.zeros((len(boxes), self._nt), np.int8)
            for t, threshold in enumerate(IOU_THRESHOLDS):
                states[:, t], _ = match(boxes, scores, gt_boxes[g], threshold, ignore)
            self._scores[c].extend(scores.tolist())
            self._states[c].extend(states)
            self._num_gt[c] += int((~ignore).sum())
            full = vis[g] >= FULL
            if full.any():
                confident = scores >= self.conf
                _, found = match(boxes[confident], scores[confident], gt_boxes[g][full], 0.5)
                self._full[c] += (int(found.sum()), int(full.sum()))
        return self

    def summary(self):
        """The figures as a plain dict (JSON-ready)."""
        per_class, ap = {}, np.full((len(self.class_names), self._nt), np.nan)
        for c, name in enumerate(self.class_names):
            scores = np.array(self._scores[c], np.float64)
            states = np.array(self._states[c], np.int8).reshape(-1, self._nt)
            for t in range(self._nt):
                counted = states[:, t] >= 0
                ap[c, t] = average_precision(
                    scores[counted], states[counted, t] == 1, self._num_gt[c]
                )
            at = (scores >= self.conf) & (states[:, 0] >= 0)
            tp = int((states[at, 0] == 1).sum())
            found, full = self._full[c]
            per_class[name] = {
                "ground_truth": int(self._num_gt[c]),
                "detections": int(at.sum()),
                "precision": _ratio(tp, int(at.sum())),
                "recall": _ratio(tp, int(self._num_gt[c])),
                "ap50": _number(ap[c, 0]),
                "ap50_95": _number(np.mean(ap[c])),
                "fully_visible": int(full),
                "recall_fully_visible": _ratio(int(found), int(full)),
            }
        has_gt = self._num_gt > 0
        found, full = self._full.sum(0)
        return {
            "images": self.images,
            "conf": self.conf,
            "min_visibility": self.min_visibility,
            "map50": _number(ap[has_gt, 0].mean()) if has_gt.any() else None,
            "map50_95": _number(ap[has_gt].mean()) if has_gt.any() else None,
            "recall_fully_visible": _ratio(int(found), int(full)),
            "fully_visible": int(full),
            "classes": per_class,
        }


def _ratio(a, b):
    return round(a / b, 4) if b else None


def _number(x):
    return None if x is None or np.isnan(x) else round(float(x), 4)
