"""The detector node: objects in camera frames, as Detections, with any backend.

    nodes:
      detector:
        class: nanobot.nodes.detector:DetectorNode
        params: {model: models/sorter.card.yaml, backend: auto, annotate: true}
        remap: {image: camera/image}

The image input keeps the newest frame only, so a detector slower than its camera drops
frames instead of falling behind. Detections carry the source frame's stamp and frame id
(and are published with that stamp), so downstream nodes can tell exactly which frame
they describe and how old it is.
"""

import collections
import time

import numpy as np

from ..msgs import Detections, Image, KeyValue
from ..node import Input, Node, Output, Param
from ..vision import backends
from ..vision.detector import Detector
from ..vision.draw import annotate


class DetectionNode(Node):
    """What every detector node shares: newest frame in, Detections out, optionally the frame
    with the detections drawn, and fps and per-stage times logged and published.

    A subclass declares its params and returns its detector from make_detector(): an object
    with detect(bgr) -> Detections, a `timing` dict (milliseconds per stage of the last
    call), describe() and close().
    """

    image = Input(Image)  # newest only: frames that arrive during detection are dropped
    detections = Output(Detections)
    annotated = Output(Image, topic="detections/image")
    stats = Output(KeyValue, topic="detections/stats")

    annotate = Param(False, help="also publish the frame with the detections drawn")
    stats_period = Param(5.0, min=0.1, help="seconds between detection-time reports")

    def make_detector(self):
        raise NotImplementedError

    def extra_stats(self):
        """Values added to each stats report."""
        return {}

    def setup(self):
        self.detector = self.make_detector()
        self.log.info("detector ready: %s", self.detector.describe())
        self._reset()
        self.last_frame_id = None
        self.every(self.stats_period, self.report)

    def _reset(self):
        self.frames = 0
        self.skipped = 0
        self.ms = collections.OrderedDict()
        self.since = time.monotonic()

    def on_image(self, msg):
        found = self.detector.detect(_bgr(msg))
        found.image_stamp = msg.stamp
        found.image_frame_id = msg.frame_id
        self.detections.publish(found, stamp=msg.stamp)
        if self.annotate:
            self.annotated.publish(
                Image(data=annotate(_bgr(msg), found), frame_id=msg.frame_id, stamp=msg.stamp),
                stamp=msg.stamp,
            )
        if self.last_frame_id is not None and msg.frame_id > self.last_frame_id:
            self.skipped += msg.frame_id - self.last_frame_id - 1
        self.last_frame_id = msg.frame_id
        self.frames += 1
        for key, value in self.detector.timing.items():
            self.ms[key] = self.ms.get(key, 0.0) + value

    def report(self):
        """Log and publish frames per second and mean milliseconds per stage."""
        elapsed = max(time.monotonic() - self.since, 1e-9)
        n = max(self.frames, 1)
        stages = [(key + "_ms", total / n) for key, total in self.ms.items()]
        values = {"fps": self.frames / elapsed, "frames": self.frames, "skipped": self.skipped}
        values.update(stages)
        values.update(self.extra_stats())
        self.log.info(
            "%.1f fps, %s ms per frame, %d frames skipped to stay current",
            values["fps"],
            ", ".join("%s %.2f" % (key[:-3], ms) for key, ms in stages) or "no",
            self.skipped,
        )
        self.stats.publish(KeyValue(values=values))
        self._reset()

    def teardown(self):
        detector = getattr(self, "detector", None)
        if detector is not None:
            detector.close()


class DetectorNode(DetectionNode):
    """Runs a detection model on every frame it can keep up with."""

    model = Param("", help="model card (.card.yaml) or model file (.onnx, .engine)")
    backend = Param("auto", choices=("auto", *backends.BACKENDS), help="inference backend")
    precision = Param("fp16", choices=("fp16", "fp32"), help="TensorRT engine precision")
    conf = Param(None, type=float, min=0.0, max=1.0, help="confidence threshold (card's)")
    iou = Param(None, type=float, min=0.0, max=1.0, help="NMS IoU threshold (card's)")
    threads = Param(0, min=0, help="CPU threads per inference (onnxruntime, opencv); 0: default")

    def make_detector(self):
        if not self.model:
            raise ValueError(
                "node %r needs a model: set its param model to a model card or ONNX file"
                % self.name
            )
        return Detector.from_card(
            self.model,
            backend=self.backend,
            precision=self.precision,
            conf=self.conf,
            iou=self.iou,
            threads=self.threads or None,
        )

    def extra_stats(self):
        return {"backend": self.detector.backend.name}


def _bgr(msg):
    """The frame of an Image as BGR HxWx3, whatever its encoding."""
    if msg.encoding == "bgr8":
        return msg.data
    if msg.encoding == "rgb8":
        return np.ascontiguousarray(msg.data[:, :, ::-1])
    return np.repeat(msg.data[:, :, None], 3, axis=2)  # mono8
