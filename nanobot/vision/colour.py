"""A colour detector: HSV thresholds, morphology and contours, for sorting by colour without
a model.

    from nanobot.vision.colour import ColourDetector

    detector = ColourDetector([
        {"name": "red", "hsv_low": [170, 120, 70], "hsv_high": [10, 255, 255]},  # wraps
        {"name": "blue", "hsv_low": [100, 120, 70], "hsv_high": [130, 255, 255],
         "min_area": 400, "circularity": [0.8, 1.0]},
    ])
    found = detector.detect(bgr_frame)          # nanobot.msgs.Detections, as Detector's

Each class is a box in OpenCV's HSV space (hue 0..179, saturation and value 0..255); a hue
range whose low end is above its high end wraps through 0, as red does. The frame is
median-blurred, converted to HSV once, thresholded per class, opened and closed (removing
specks, filling pinholes), and each outer contour whose area is within the class's range and
that passes its shape tests becomes one detection. The score is the blob's solidity (its
area over its convex hull's): near 1 for a solid, convex object, lower for ragged blobs.
"""

import math
import numbers
import time

import numpy as np

from .. import msgs
from . import _cv2

__all__ = ["ColourClass", "ColourDetector", "parse_classes"]

HUE_MAX, CHANNEL_MAX = 179, 255
CLASS_KEYS = (
    "name",
    "hsv_low",
    "hsv_high",
    "min_area",
    "max_area",
    "circularity",
    "vertices",
    "aspect",
)


class ColourClass:
    """One class: an HSV range, an area range in pixels, and optional shape tests.

    Shape tests are [low, high] ranges, each checked only when given:
    `circularity` 4 pi area / perimeter^2 (1 for a true disc; on pixel outlines about 0.9
    for a disc, 0.8 for a square, 0.55 for a triangle, so [0.85, 1] keeps discs);
    `vertices` the corners of the outline simplified to 4% of its perimeter (a single int
    means exactly that many); `aspect` the long side over the short side of the smallest
    rotated rectangle around the blob (1 for a square or disc).
    """

    def __init__(
        self,
        name,
        hsv_low,
        hsv_high,
        min_area=100,
        max_area=None,
        circularity=None,
        vertices=None,
        aspect=None,
    ):
        if not isinstance(name, str) or not name:
            raise ValueError("a colour class needs a name (a non-empty string), not %r" % (name,))
        self.name = name
        self.hsv_low = self._hsv(hsv_low, "hsv_low")
        self.hsv_high = self._hsv(hsv_high, "hsv_high")
        for i, channel in ((1, "saturation"), (2, "value")):
            if self.hsv_low[i] > self.hsv_high[i]:
                raise self._error(
                    "hsv_low's %s (%d) is above hsv_high's (%d); only hue wraps around"
                    % (channel, self.hsv_low[i], self.hsv_high[i])
                )
        self.min_area = self._number(min_area, "min_area", 0)
        self.max_area = None if max_area is None else self._number(max_area, "max_area", 0)
        if self.max_area is not None and self.max_area < self.min_area:
            raise self._error("max_area (%s) is below min_area (%s)" % (max_area, min_area))
        if isinstance(vertices, numbers.Integral) and not isinstance(vertices, bool):
            vertices = [vertices, vertices]
        self.circularity = self._range(circularity, "circularity", 0.0, 1.0)
        self.vertices = self._range(vertices, "vertices", 3, None)
        self.aspect = self._range(aspect, "aspect", 1.0, None)
        self._tests = [
            (measure, bounds)
            for measure, bounds in (
                (circularity_of, self.circularity),
                (vertices_of, self.vertices),
                (aspect_of, self.aspect),
            )
            if bounds is not None
        ]

    @classmethod
    def from_dict(cls, config):
        """A class from a graph file's mapping; unknown keys are an error naming them."""
        if not isinstance(config, dict):
            raise ValueError(
                "a colour class is a mapping like {name: red, hsv_low: [h, s, v], "
                "hsv_high: [h, s, v]}, not %r" % (config,)
            )
        name = config.get("name", "?")
        unknown = sorted(set(config) - set(CLASS_KEYS))
        if unknown:
            raise ValueError(
                "colour class %r: unknown key %s; the keys are %s"
                % (name, ", ".join(unknown), ", ".join(CLASS_KEYS))
            )
        missing = [k for k in ("name", "hsv_low", "hsv_high") if k not in config]
        if missing:
            raise ValueError("colour class %r: %s missing" % (name, " and ".join(missing)))
        return cls(**config)

    @property
    def wraps(self):
        """True when the hue range runs through 0 (low hue above high hue), as red's does."""
        return self.hsv_low[0] > self.hsv_high[0]

    def mask(self, hsv):
        """uint8 mask (255 = in range) of an HSV image."""
        cv2 = _cv2.require("colour detection")
        low, high = np.array(self.hsv_low, np.uint8), np.array(self.hsv_high, np.uint8)
        if not self.wraps:
            return cv2.inRange(hsv, low, high)
        top = high.copy()
        top[0] = HUE_MAX
        bottom = low.copy()
        bottom[0] = 0
        return cv2.inRange(hsv, low, top) | cv2.inRange(hsv, bottom, high)

    def accepts(self, contour, area):
        """Whether a contour of `area` pixels is this class's size and shape."""
        if area < self.min_area or (self.max_area is not None and area > self.max_area):
            return False
        return all(_within(measure(contour, area), bounds) for measure, bounds in self._tests)

    def __repr__(self):
        return "ColourClass(%r, %s..%s)" % (self.name, self.hsv_low, self.hsv_high)

    # -- checking values

    def _error(self, text):
        return ValueError("colour class %r: %s" % (self.name, text))

    def _hsv(self, value, key):
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 3
            and all(_is_number(v) for v in value)
            and 0 <= value[0] <= HUE_MAX
            and all(0 <= v <= CHANNEL_MAX for v in value[1:])
        )
        if not ok:
            raise self._error(
                "%s must be [h, s, v] with h in 0..%d (OpenCV's hue, degrees / 2) and s, v in "
                "0..%d, not %r" % (key, HUE_MAX, CHANNEL_MAX, value)
            )
        return tuple(round(v) for v in value)

    def _number(self, value, key, low):
        if not _is_number(value) or value < low:
            raise self._error("%s must be a number >= %s, not %r" % (key, low, value))
        return value

    def _range(self, value, key, low, high):
        if value is None:
            return None
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(_is_number(v) for v in value)
            and low <= value[0] <= value[1]
            and (high is None or value[1] <= high)
        )
        if not ok:
            bounds = "%s..%s" % (low, high) if high is not None else ">= %s" % low
            raise self._error(
                "%s must be [low, high] with low <= high, both %s, not %r" % (key, bounds, value)
            )
        return tuple(value)


class ColourDetector:
    """Finds blobs of each class's colour in BGR frames; see the module docstring.

    `classes`: as parse_classes() takes them, in class id order.
    `blur`: median-blur kernel size before thresholding (odd; 0 or 1: none).
    `morph`: opening-then-closing kernel size on each mask (0 or 1: none).
    """

    def __init__(self, classes, blur=3, morph=3):
        self.classes = parse_classes(classes)
        if not (isinstance(blur, int) and blur >= 0 and (blur <= 1 or blur % 2 == 1)):
            raise ValueError(
                "blur must be 0 (off) or an odd kernel size like 3 or 5, not %r" % (blur,)
            )
        if not (isinstance(morph, int) and morph >= 0):
            raise ValueError("morph must be 0 (off) or a kernel size like 3, not %r" % (morph,))
        self.class_names = [c.name for c in self.classes]
        self.blur = blur
        self._kernel = None
        if morph > 1:
            cv2 = _cv2.require("colour detection")
            self._kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (morph, morph))
        self.timing = {}  # milliseconds of the last detect(): pre, threshold, contours

    def hsv(self, image):
        """The blurred HSV image the classes are thresholded in."""
        cv2 = _cv2.require("colour detection")
        if self.blur > 1:
            image = cv2.medianBlur(image, self.blur)
        return cv2.cvtColor(image, cv2.COLOR_BGR2HSV)

    def masks(self, image):
        """{class name: cleaned uint8 mask} of a BGR image: what detect() sees (for tuning)."""
        hsv = self.hsv(image)
        return {c.name: self._clean(c.mask(hsv)) for c in self.classes}

    def detect(self, image):
        """Blobs in a BGR image (HxWx3 uint8) as nanobot.msgs.Detections: boxes (x1, y1, x2,
        y2) enclosing each blob's pixels, best score first; stamps are the caller's."""
        cv2 = _cv2.require("colour detection")
        t0 = time.perf_counter()
        hsv = self.hsv(image)
        t1 = time.perf_counter()
        masks = [self._clean(c.mask(hsv)) for c in self.classes]
        t2 = time.perf_counter()
        boxes, scores, ids = [], [], []
        for class_id, (cls, mask) in enumerate(zip(self.classes, masks)):
            contours = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[-2]
            for contour in contours:
                area = cv2.contourArea(contour)
                if not cls.accepts(contour, area):
                    continue
                x, y, w, h = cv2.boundingRect(contour)
                hull = cv2.contourArea(cv2.convexHull(contour))
                boxes.append((x, y, x + w, y + h))
                scores.append(min(area / hull, 1.0) if hull > 0 else 0.0)
                ids.append(class_id)
        order = np.argsort(-np.asarray(scores, np.float32), kind="stable")
        result = msgs.Detections(
            boxes=np.asarray(boxes, np.float32).reshape(-1, 4)[order],
            scores=np.asarray(scores, np.float32)[order],
            class_ids=np.asarray(ids, np.int32)[order],
            class_names=list(self.class_names),
            image_width=image.shape[1],
            image_height=image.shape[0],
        )
        t3 = time.perf_counter()
        self.timing = {
            "pre": 1e3 * (t1 - t0),
            "threshold": 1e3 * (t2 - t1),
            "contours": 1e3 * (t3 - t2),
        }
        return result

    def _clean(self, mask):
        if self._kernel is None:
            return mask
        cv2 = _cv2.require("colour detection")
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._kernel)
        return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._kernel)

    def describe(self):
        return "colour: %d classes (%s), blur %d, morph %s" % (
            len(self.classes),
            ", ".join(self.class_names),
            self.blur,
            self._kernel.shape[0] if self._kernel is not None else 0,
        )

    def close(self):
        """Nothing to free; here so a node can treat every detector alike."""


def parse_classes(classes):
    """A list of ColourClass from a list of ColourClass objects or mappings of their
    arguments, or from a mapping {name: {hsv_low: ..., ...}}; ValueError names what is wrong."""
    if isinstance(classes, dict):
        classes = [dict(c, name=name) if isinstance(c, dict) else c for name, c in classes.items()]
    if not isinstance(classes, (list, tuple)) or not classes:
        raise ValueError(
            "colour classes must be a non-empty list like [{name: red, hsv_low: [h, s, v], "
            "hsv_high: [h, s, v]}] or a mapping {red: {hsv_low: ..., hsv_high: ...}}, not %r"
            % (classes,)
        )
    parsed = [c if isinstance(c, ColourClass) else ColourClass.from_dict(c) for c in classes]
    names = [c.name for c in parsed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError("colour class names must differ; %s given twice" % ", ".join(twice))
    return parsed


def circularity_of(contour, area):
    """4 pi area / perimeter^2: 1 for a disc, less for anything else."""
    perimeter = _cv2.require("colour detection").arcLength(contour, True)
    return 4 * math.pi * area / perimeter**2 if perimeter > 0 else 0.0


def vertices_of(contour, area):
    """Corners of the contour simplified to within 4% of its perimeter."""
    cv2 = _cv2.require("colour detection")
    return len(cv2.approxPolyDP(contour, 0.04 * cv2.arcLength(contour, True), True))


def aspect_of(contour, area):
    """Long side over short side of the smallest rotated rectangle around the contour."""
    w, h = _cv2.require("colour detection").minAreaRect(contour)[1]
    return max(w, h) / min(w, h) if min(w, h) > 0 else math.inf


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _within(value, bounds):
    return bounds[0] <= value <= bounds[1]
