"""Demo nodes: a camera-like frame source and a rate monitor, for trying a graph with no camera.

nanobot run nanobot/graphs/demo.yaml --seconds 5
"""

import numpy as np

from ..msgs import Image, KeyValue
from ..node import Input, Node, Output, Param


class PatternCamera(Node):
    """Publishes moving test-pattern frames (BGR) at a fixed rate, like a camera would."""

    image = Output(Image)
    width = Param(640, help="frame width in pixels", min=1)
    height = Param(480, help="frame height in pixels", min=1)
    fps = Param(30.0, help="frames per second", min=0.1)

    def setup(self):
        self.frame_id = 0
        h, w = self.height, self.width
        # A colour gradient rolled sideways each frame: cheap to make, visibly moving.
        x = np.linspace(0, 255, w, dtype=np.float32)
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
        self._base = np.stack(
            [np.broadcast_to(x, (h, w)), np.broadcast_to(y, (h, w)), (x + y) / 2 % 256], axis=-1
        ).astype(np.uint8)
        self.every(1.0 / self.fps, self.capture)

    def capture(self):
        self.frame_id += 1
        data = np.roll(self._base, self.frame_id * 4 % self.width, axis=1)
        self.image.publish(Image(data=data, frame_id=self.frame_id, stamp=self.now_ns()))


class RateMonitor(Node):
    """Measures the rate, latency and frame loss of an Image stream and reports them."""

    image = Input(Image)
    report = Output(KeyValue)
    period = Param(1.0, help="seconds between reports", min=0.01)

    def setup(self):
        self._reset()
        self.total = 0
        self.every(self.period, self.publish_report)

    def _reset(self):
        self.count = 0
        self.latency_ns = []
        self.first_id = None
        self.last_id = None

    def on_image(self, msg):
        self.count += 1
        self.total += 1
        self.latency_ns.append(self.now_ns() - msg.stamp)
        if self.first_id is None:
            self.first_id = msg.frame_id
        self.last_id = msg.frame_id

    def publish_report(self):
        lat = np.array(self.latency_ns or [0]) / 1e6
        span = (self.last_id - self.first_id + 1) if self.first_id is not None else 0
        values = {
            "frames": self.count,
            "fps": self.count / self.period,
            "latency_ms_p50": float(np.percentile(lat, 50)),
            "latency_ms_max": float(lat.max()),
            "skipped": span - self.count,
            "total": self.total,
        }
        self.log.info(
            "%(frames)d frames, %(fps).1f fps, latency p50 %(latency_ms_p50).2f ms "
            "max %(latency_ms_max).2f ms, %(skipped)d skipped (newest-only input)",
            values,
        )
        self.report.publish(KeyValue(values=values))
        self._reset()
