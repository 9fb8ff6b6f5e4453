"""Labelled images for training and evaluating detectors: the YOLO dataset layout.

    dataset = YoloDataset("data/train")          # images/NAME.jpg + labels/NAME.txt
    for sample in dataset:                       # Sample(name, image, boxes, class_ids, ...)
        ...

A label file holds one line per object, ``class cx cy w h`` normalised to 0..1 (Ultralytics'
format); an image without a label file has no objects. ``boxes.csv`` next to them (written by
``python -m sims.conveyor.export``) adds each object's visibility, the fraction of it inside
the frame, which the five columns cannot carry. Class names come from ``data.yaml``
(``names:``) when present.
"""

import collections
import csv
import os

import numpy as np
import yaml

from . import _cv2

__all__ = ["IMAGE_EXTENSIONS", "Sample", "YoloDataset", "read_yolo_labels"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")


class Sample(collections.namedtuple("Sample", "name image boxes class_ids visibility")):
    """One labelled image: BGR uint8 HxWx3; boxes N x 4 float32 (x1, y1, x2, y2, pixels);
    class ids N int64; visibility N float32 (1.0 where unknown)."""

    __slots__ = ()


def read_yolo_labels(path, width, height):
    """(boxes N x 4 in pixels, class ids N) from a YOLO label file; empty if it is absent."""
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 5:
                    raise ValueError(
                        "%s line %d: a label line is `class cx cy w h`, not %r"
                        % (path, number, line.strip())
                    )
                rows.append([float(v) for v in fields])
    rows = np.array(rows, np.float64).reshape(-1, 5)
    cx, cy, w, h = (rows[:, k] for k in range(1, 5))
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    boxes *= np.array([width, height, width, height], np.float64)
    return boxes.astype(np.float32), rows[:, 0].astype(np.int64)


class YoloDataset:
    """The images of a YOLO-layout folder, in name order, each with its labels."""

    def __init__(self, root):
        self.root = root
        images = os.path.join(root, "images")
        if not os.path.isdir(images):
            raise OSError("%s is not a YOLO dataset: it needs images/ (and labels/) inside" % root)
        self.names = sorted(n for n in os.listdir(images) if n.lower().endswith(IMAGE_EXTENSIONS))
        self.class_names = _class_names(os.path.join(root, "data.yaml"))
        self._visibility = _visibility(os.path.join(root, "boxes.csv"))

    def __len__(self):
        return len(self.names)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index):
        name = self.names[index]
        image = _cv2.require("reading images").imread(os.path.join(self.root, "images", name))
        if image is None:
            raise OSError("cannot read image %s" % os.path.join(self.root, "images", name))
        h, w = image.shape[:2]
        label = os.path.join(self.root, "labels", os.path.splitext(name)[0] + ".txt")
        boxes, ids = read_yolo_labels(label, w, h)
        visibility = self._visibility.get(name)
        if visibility is None or len(visibility) != len(boxes):
            visibility = np.ones(len(boxes), np.float32)
        return Sample(name, image, boxes, ids, visibility)


def _class_names(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        names = (yaml.safe_load(f) or {}).get("names") or []
    if isinstance(names, dict):
        return [str(names[k]) for k in sorted(names)]
    return [str(n) for n in names]


def _visibility(path):
    """image name -> visibility per label line, from the exporter's boxes.csv (same order)."""
    table = collections.OrderedDict()
    if os.path.exists(path):
        with open(path, encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                table.setdefault(row["image"], []).append(float(row["visibility"]))
    return {name: np.array(v, np.float32) for name, v in table.items()}
