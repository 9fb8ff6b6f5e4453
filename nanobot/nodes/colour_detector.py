"""The colour detector node: coloured objects in camera frames, as Detections, with no model.

    nodes:
      detector:
        class: nanobot.nodes.colour_detector.ColourDetectorNode
        params:
          classes:
            - {name: red, hsv_low: [170, 120, 70], hsv_high: [10, 255, 255], min_area: 300}
            - {name: blue, hsv_low: [100, 120, 70], hsv_high: [130, 255, 255],
               circularity: [0.8, 1.0]}
        remap: {image: camera/image}

Same ports as DetectorNode (newest frame in; `detections`, `detections/image`,
`detections/stats` out), so either can feed the same sorter. The classes and their keys are
those of nanobot.vision.colour.ColourClass; a graph with a bad class fails its check, with
one sentence naming the node, the class and the key.
"""

from ..node import Param, ParamError
from ..vision.colour import ColourDetector, parse_classes
from .detector import DetectionNode


class ClassesParam(Param):
    """The `classes` param: a list or mapping of colour classes, each checked as the detector
    would, so a graph file with a bad class fails its check before anything starts."""

    def check(self, value, where=""):
        try:
            parse_classes(value)
        except ValueError as e:
            raise ParamError("param %r%s: %s" % (self.name, where, e)) from None
        return value


class ColourDetectorNode(DetectionNode):
    """Finds blobs of each class's colour (and shape) in every frame it can keep up with."""

    classes = ClassesParam(
        None, help="colour classes: [{name, hsv_low, hsv_high, min_area, max_area, ...}]"
    )
    blur = Param(3, min=0, help="median blur kernel before thresholding (odd; 0: none)")
    morph = Param(3, min=0, help="opening and closing kernel on each mask (0: none)")

    def make_detector(self):
        if not self.classes:
            raise ValueError(
                "node %r needs colour classes: set its param classes to a list like "
                "[{name: red, hsv_low: [170, 120, 70], hsv_high: [10, 255, 255]}]" % self.name
            )
        try:
            return ColourDetector(self.classes, blur=self.blur, morph=self.morph)
        except ValueError as e:
            raise ValueError("node %r: %s" % (self.name, e)) from None
