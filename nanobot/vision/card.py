"""Model cards: a small YAML file next to a model saying how to run it.

    # yolov8n.card.yaml, next to yolov8n.onnx
    model: yolov8n.onnx        # relative to the card
    family: yolov8             # yolov5 | yolov8 | yolo11 | ssd  (default: from the outputs)
    input_size: [640, 640]     # height, width (default: the model's input shape)
    resize: letterbox          # letterbox | plain        (default: the family's)
    normalize: yolo            # yolo | ssd | {mean: [r, g, b], std: [r, g, b], rgb: true}
    labels: coco.txt           # a labels file, or a list (default: the model's metadata)
    conf: 0.25                 # default: the family's
    iou: 0.7
    max_detections: 300

Every key but `model` is optional: a plain Ultralytics export runs without a card.
"""

import os

import yaml

from . import families
from .preprocess import SSD, YOLO, Normalization

__all__ = ["CARD_SUFFIX", "CardError", "ModelCard", "card_path"]

CARD_SUFFIX = ".card.yaml"
KEYS = (
    "model",
    "family",
    "input_size",
    "resize",
    "normalize",
    "labels",
    "conf",
    "iou",
    "max_detections",
)
NORMALIZATIONS = {"yolo": YOLO, "ssd": SSD}


class CardError(ValueError):
    """A model card that cannot be used as written."""


def card_path(model_path):
    """Where the card of `model_path` lives: model.onnx -> model.card.yaml."""
    return os.path.splitext(model_path)[0] + CARD_SUFFIX


class ModelCard:
    """How to run one model. Attributes are None where the card leaves the choice to the
    model (input size, labels) or to its family (thresholds, resize, normalisation)."""

    def __init__(
        self,
        model,
        family=None,
        input_size=None,
        resize=None,
        normalize=None,
        labels=None,
        conf=None,
        iou=None,
        max_detections=300,
        path=None,
    ):
        self.path = path
        where = " in %s" % path if path else ""
        self.model = model
        self.family = families.get(family) if family else None
        if input_size is not None:
            if isinstance(input_size, int):
                input_size = [input_size, input_size]
            if len(input_size) != 2 or not all(isinstance(v, int) and v > 0 for v in input_size):
                raise CardError(
                    "input_size%s must be [height, width], not %r" % (where, input_size)
                )
            input_size = tuple(input_size)
        self.input_size = input_size
        if resize not in (None, "letterbox", "plain"):
            raise CardError("resize%s must be letterbox or plain, not %r" % (where, resize))
        self.resize = resize
        self.normalization = _normalization(normalize, where)
        self.labels = labels
        for name, value in (("conf", conf), ("iou", iou)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise CardError("%s%s must be within 0..1, not %r" % (name, where, value))
        self.conf = conf
        self.iou = iou
        self.max_detections = int(max_detections)

    @classmethod
    def load(cls, path):
        """The card in YAML file `path` (paths in it are relative to the file)."""
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
        if not isinstance(data, dict):
            raise CardError("model card %s must be a mapping of keys to values" % path)
        unknown = sorted(set(data) - set(KEYS))
        if unknown:
            raise CardError(
                "model card %s has unknown keys %s; known: %s"
                % (path, ", ".join(unknown), ", ".join(KEYS))
            )
        if "model" not in data:
            raise CardError("model card %s must name its model file: model: NAME.onnx" % path)
        base = os.path.dirname(os.path.abspath(path))
        data["model"] = os.path.join(base, data["model"])
        labels = data.get("labels")
        if isinstance(labels, str):
            from .labels import read_labels

            data["labels"] = read_labels(os.path.join(base, labels))
        return cls(path=path, **data)

    @classmethod
    def for_model(cls, path):
        """The card for `path`: a card file itself, the card next to a model file, or an
        empty card (everything from the model and its family) when there is none."""
        if path.endswith((".yaml", ".yml")):
            return cls.load(path)
        if os.path.exists(card_path(path)):
            return cls.load(card_path(path))
        return cls(model=path)

    def __repr__(self):
        return "<ModelCard %s family=%s>" % (
            self.model,
            self.family.name if self.family else "auto",
        )


def _normalization(value, where):
    if value is None:
        return None
    if isinstance(value, str):
        if value not in NORMALIZATIONS:
            raise CardError(
                "normalize%s must be %s or a mapping {mean, std, rgb}, not %r"
                % (where, " or ".join(NORMALIZATIONS), value)
            )
        return NORMALIZATIONS[value]
    if isinstance(value, dict):
        try:
            mean = tuple(float(v) for v in value.get("mean", (0, 0, 0)))
            std = tuple(float(v) for v in value.get("std", (1, 1, 1)))
        except (TypeError, ValueError):
            mean = std = ()
        if len(mean) != 3 or len(std) != 3 or not all(std):
            raise CardError(
                "normalize%s needs mean and std of three numbers each (std not 0)" % where
            )
        return Normalization(mean, std, bool(value.get("rgb", True)))
    raise CardError("normalize%s must be a name or a mapping, not %r" % (where, value))
