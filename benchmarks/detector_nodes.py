"""The nodes of the detector benchmark's graph (benchmarks.detector): a camera-like source
publishing pre-rendered frames at a fixed rate, and a sink recording when detections arrive.

They live in a module of their own so the executor's worker processes can import them by
name, whichever way the benchmark was started.
"""

import json
import os

import numpy as np

from nanobot import msgs
from nanobot.node import Input, Node, Output, Param


class FrameSource(Node):
    """Publishes the frames of a .npy file (N x H x W x 3, BGR) in turn at `fps`, like a
    camera: each an Image with the next frame id, stamped with the graph clock."""

    image = Output(msgs.Image)
    frames = Param("", help=".npy file of frames")
    fps = Param(30.0, min=0.1, help="frames per second")

    def setup(self):
        self._frames = np.load(self.frames)
        self.frame_id = 0
        self.every(1.0 / self.fps, self.capture)

    def capture(self):
        self.frame_id += 1
        stamp = self.now_ns()
        data = self._frames[self.frame_id % len(self._frames)]
        self.image.publish(msgs.Image(data=data, frame_id=self.frame_id, stamp=stamp), stamp)


class DetectionSink(Node):
    """Records the arrival of each Detections; after `warmup` + `count` of them writes the
    record to `out` (JSON) and stops the graph."""

    detections = Input(msgs.Detections)
    stats = Input(msgs.KeyValue, topic="detections/stats")
    count = Param(100, min=2, help="detections to record")
    warmup = Param(10, min=0, help="detections to ignore first")
    out = Param("", help="where to write the record")

    def setup(self):
        self.seen = 0
        self.arrivals, self.stamps, self.frame_ids = [], [], []

    def on_detections(self, msg):
        now = self.now_ns()
        self.seen += 1
        if self.seen <= self.warmup or len(self.arrivals) >= self.count:
            return
        self.arrivals.append(now)
        self.stamps.append(msg.image_stamp)
        self.frame_ids.append(msg.image_frame_id)
        if len(self.arrivals) == self.count:
            record = {
                "arrival_ns": self.arrivals,
                "stamp_ns": self.stamps,
                "frame_id": self.frame_ids,
                "stats": self.stats.latest.values if self.stats.latest else None,
            }
            tmp = self.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.replace(tmp, self.out)
            self.request_shutdown("recorded %d detections" % self.count)
