"""A detector: model card + backend + pre- and post-processing, from frame to Detections.

detector = Detector.from_card("models/sorter.card.yaml")     # or a plain .onnx file
found = detector.detect(bgr)        # nanobot.msgs.Detections, boxes in bgr's pixels
for i in range(len(found)):
    print(found.label(i), found.scores[i], found.boxes[i])
"""

import logging
import time

import numpy as np

from .. import msgs
from . import backends, families, onnxinfo
from .card import ModelCard
from .labels import from_metadata
from .nms import nms
from .preprocess import preprocess

__all__ = ["Detector"]

log = logging.getLogger("nanobot.vision")


class Detector:
    """Runs one detection model on BGR frames.

    Thresholds: `conf` and `iou` given here win over the card's, which win over the
    family's defaults. `backend`, `precision`, `cache_dir` and `threads` are those of
    backends.load.
    """

    def __init__(
        self,
        card,
        backend="auto",
        precision="fp16",
        cache_dir=None,
        conf=None,
        iou=None,
        threads=None,
    ):
        self.card = card
        info = onnxinfo.read(card.model) if card.model.endswith(".onnx") else None
        input_shape = None
        if card.input_size and info and info.inputs:
            input_shape = (1, 3, *tuple(card.input_size))
        self.backend = backends.load(
            card.model, backend, precision, cache_dir, input_shape=input_shape, threads=threads
        )
        try:
            self._configure(info, conf, iou)
        except Exception:
            self.backend.close()
            raise
        self.timing = {}  # milliseconds of the last detect(): pre, infer, post

    @classmethod
    def from_card(cls, path, backend="auto", **kwargs):
        """A detector for a card file, or for a model file (with its card if it has one)."""
        return cls(ModelCard.for_model(path), backend=backend, **kwargs)

    def _configure(self, info, conf, iou):
        card = self.card
        if len(self.backend.inputs) != 1:
            raise ValueError(
                "%s has %d inputs; a detector model takes one image"
                % (card.model, len(self.backend.inputs))
            )
        image = self.backend.inputs[0]
        self.input_name = image.name
        size = card.input_size or tuple(image.shape[2:4])
        if len(size) != 2 or None in size:
            raise ValueError(
                "%s takes images of any size: set input_size: [height, width] in its card"
                % card.model
            )
        self.input_size = tuple(int(v) for v in size)
        self.family = card.family or families.guess(
            [(t.name, t.shape) for t in self.backend.outputs]
        )
        labels = card.labels or (from_metadata(info.metadata) if info else None) or []
        self.conf, self.iou = conf, iou
        self._labels = labels
        self.class_names = []
        if self.family is not None:
            self._apply_family()

    def _apply_family(self):
        family, card = self.family, self.card
        labels = list(self._labels)
        if family.class_offset and labels and labels[0].strip("_").lower() == "background":
            labels = labels[family.class_offset :]
        self.class_names = labels
        self.conf = _first(self.conf, card.conf, family.conf)
        self.iou = _first(self.iou, card.iou, family.iou)
        self.resize = card.resize or family.resize
        self.normalization = card.normalization or family.normalization

    def detect(self, image):
        """Objects in a BGR image (HxWx3 uint8) as nanobot.msgs.Detections (boxes in its
        pixels, best score first); image_width/height are set, stamps are the caller's."""
        if self.family is None:  # outputs of dynamic shape: decided on the first frame
            self._guess_from_run(image)
        t0 = time.perf_counter()
        tensor, transform = preprocess(image, self.input_size, self.resize, self.normalization)
        t1 = time.perf_counter()
        outputs = self.backend.infer({self.input_name: tensor})
        t2 = time.perf_counter()
        boxes, scores, ids = self.family.decode(outputs, self.conf, self.input_size)
        keep = nms(boxes, scores, self.iou, ids, self.card.max_detections)
        result = msgs.Detections(
            boxes=transform.to_image(boxes[keep]).astype(np.float32),
            scores=scores[keep].astype(np.float32),
            class_ids=ids[keep].astype(np.int32),
            class_names=list(self.class_names),
            image_width=image.shape[1],
            image_height=image.shape[0],
        )
        t3 = time.perf_counter()
        self.timing = {"pre": 1e3 * (t1 - t0), "infer": 1e3 * (t2 - t1), "post": 1e3 * (t3 - t2)}
        return result

    def _guess_from_run(self, image):
        tensor, _ = preprocess(image, self.input_size)  # only the output shapes matter here
        outputs = self.backend.infer({self.input_name: tensor})
        self.family = families.guess([(n, a.shape) for n, a in outputs.items()])
        self._apply_family()

    def describe(self):
        return "%s: %s, input %dx%d, %s, %d classes, conf %.2f, iou %.2f" % (
            self.card.model,
            self.family.name if self.family else "family from first frame",
            self.input_size[1],
            self.input_size[0],
            self.backend.describe(),
            len(self.class_names),
            self.conf or 0,
            self.iou or 0,
        )

    def close(self):
        self.backend.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _first(*values):
    return next(v for v in values if v is not None)
