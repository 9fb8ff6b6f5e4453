"""The nodes of the detector benchmark's graph (benchmarks.detector): a camera-like source
publishing pre-rendered frames at the rate it is told, and the conductor, which runs the
benchmark's phases in turn and records what it measures.

They live in a module of their own so the executor's worker processes can import them by
name, whichever way the benchmark was started.
"""

import collections
import json
import os

import numpy as np

from benchmarks import transport
from nanobot import msgs
from nanobot.node import Input, Node, Output, Param

CONTROL_TOPIC = "bench/control"
RESEND_S = 0.1  # the conductor repeats its rate this often: a new subscriber may miss one
SETTLE_S = 0.1  # after a node phase, for the frames still in flight to land


class FrameSource(Node):
    """Publishes the frames of a .npy file (N x H x W x 3, BGR) in turn, like a camera, each
    an Image with the next frame id, stamped with the graph clock: at `fps`, or at the rate
    the last message on `control` named (values {"fps": rate}; 0 stops)."""

    image = Output(msgs.Image)
    control = Input(msgs.KeyValue, topic=CONTROL_TOPIC)
    frames = Param("", help=".npy file of frames")
    fps = Param(0.0, min=0.0, help="frames per second until told otherwise (0: none)")

    def setup(self):
        self._frames = np.load(self.frames)
        self.frame_id = 0
        self._rate, self._timer = 0.0, None
        self._set_rate(self.fps)

    def on_control(self, msg):
        fps = float(msg.values.get("fps", 0.0))
        if fps != self._rate:
            self._set_rate(fps)

    def _set_rate(self, fps):
        if self._timer is not None:
            self._timer.cancel()
        self._rate = fps
        self._timer = self.every(1.0 / fps, self.capture) if fps > 0 else None

    def capture(self):
        self.frame_id += 1
        stamp = self.now_ns()
        data = self._frames[self.frame_id % len(self._frames)]
        self.image.publish(msgs.Image(data=data, frame_id=self.frame_id, stamp=stamp), stamp)


class Conductor(Node):
    """Runs the benchmark: bare, saturated, bare, paced, bare, saturated, ... (`rounds` of
    four after the first bare), each phase seconds after the last, so that every node phase
    is compared with bare phases run just before and just after it.

    - bare: the model called in a loop in this process on the frames, the camera idle: back
      to back, then once per period at the paced rate;
    - saturated / paced: the camera publishing at `overdrive` times the first bare rate / at
      half of it (50 fps at most), the detector node detecting, and this node recording when
      each Detections arrives (after `warmup` of them, `count`).

    `spec` is a JSON file: {"model", "backend", "threads", "frames", "count", "warmup",
    "rounds", "overdrive", "paced_max_fps"}. At the end the record goes to `out` (JSON) and
    the graph stops. (A benchmark, for the process executor only: its bare loop runs on the
    wall clock, time.sleep() included, which a node meant for simulation must not do.)
    """

    detections = Input(msgs.Detections)
    stats = Input(msgs.KeyValue, topic="detections/stats")
    control = Output(msgs.KeyValue, topic=CONTROL_TOPIC)
    spec = Param("", help="JSON file: what to measure")
    out = Param("", help="where to write the record")

    def setup(self):
        from benchmarks.detector import bare_loop  # the one loop, whichever process runs it
        from nanobot.vision import Detector

        with open(self.spec) as f:
            self.settings = s = json.load(f)
        self.frames = np.load(s["frames"])
        self.detector = Detector.from_card(
            s["model"], backend=s["backend"], threads=s["threads"] or None
        )
        self.bare_loop = bare_loop
        self.phases = collections.deque(
            ["bare"] + ["saturated", "bare", "paced", "bare"] * s["rounds"]
        )
        self.record = {
            "detector": self.detector.describe(),
            "backend": self.detector.backend.name,
            "phases": [],
        }
        self.rate = 0.0
        self.paced_fps = None  # half the first bare rate, at most paced_max_fps
        self.phase = None  # the node phase being recorded
        self._seen = 0  # detections in it, warm-up included
        self.every(RESEND_S, self._resend)
        self.after(0.0, self._next)

    def teardown(self):
        self.detector.close()

    def _next(self):
        if not self.phases:
            with open(self.out + ".tmp", "w") as f:
                json.dump(self.record, f)
            os.replace(self.out + ".tmp", self.out)
            self.request_shutdown("the benchmark's phases are done")
            return
        name = self.phases.popleft()
        s = self.settings
        if name == "bare":  # blocks this node's thread: the camera is idle meanwhile
            cpu = transport.cpu_times()
            run = self.bare_loop(self.detector, self.frames, s["count"], s["warmup"])
            if self.paced_fps is None:
                self.paced_fps = min(run["fps"] / 2, s["paced_max_fps"])
            run["paced"] = self.bare_loop(
                self.detector, self.frames, s["count"], s["warmup"], self.paced_fps
            )
            run.update(phase="bare", cpu=[cpu, transport.cpu_times()])
            self.record["phases"].append(run)
            self.after(0.0, self._next)
            return
        if name == "saturated":
            fps = s["overdrive"] * self.record["phases"][0]["fps"]
        else:
            fps = self.paced_fps
        self.phase = {
            "phase": name,
            "camera_fps_requested": fps,
            "arrival_ns": [],
            "stamp_ns": [],
            "frame_id": [],
            "stats": [],  # the detector's reports while the phase ran
            "cpu": [transport.cpu_times()],
        }
        self._seen = 0
        self._set_rate(fps)

    def on_detections(self, msg):
        phase = self.phase
        if phase is None:  # in flight when the last phase ended
            return
        now = self.now_ns()
        self._seen += 1
        if self._seen <= self.settings["warmup"]:
            return
        phase["arrival_ns"].append(now)
        phase["stamp_ns"].append(msg.image_stamp)
        phase["frame_id"].append(msg.image_frame_id)
        if len(phase["arrival_ns"]) == self.settings["count"]:
            self._set_rate(0.0)
            phase["cpu"].append(transport.cpu_times())
            self.record["phases"].append(phase)
            self.phase = None
            self.after(SETTLE_S, self._next)

    def on_stats(self, msg):
        if self.phase is not None:
            self.phase["stats"].append(msg.values)

    def _set_rate(self, fps):
        self.rate = fps
        self._resend()

    def _resend(self):
        self.control.publish(msgs.KeyValue(values={"fps": self.rate}))
