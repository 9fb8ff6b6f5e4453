"""Node classes the tests run under the process executor (importable by module path, as
every node class must be, since workers import them in their own processes)."""

import os
import time

import numpy as np

from nanobot import msgs
from nanobot.node import Input, Node, Output, Param


class Counter(Node):
    """Publishes {"n": 0, 1, 2, ...} every `period` seconds, and a blob of `size` bytes."""

    count = Output(msgs.KeyValue, topic="count")
    period = Param(0.01)

    def setup(self):
        self.n = 0
        self.every(self.period, self.tick)

    def tick(self):
        self.count.publish(msgs.KeyValue(values={"n": self.n, "pid": os.getpid()}))
        self.n += 1


class Recorder(Node):
    """Appends every n it receives to `path`; asks the graph to stop after `expect` of them."""

    count = Input(msgs.KeyValue, topic="count")
    path = Param("")
    expect = Param(20)

    def setup(self):
        self.seen = 0

    def on_count(self, msg):
        with open(self.path, "a") as f:
            f.write("%d %d\n" % (msg.values["n"], msg.values["pid"]))
        self.seen += 1
        if self.seen == self.expect:
            self.request_shutdown("recorded %d messages" % self.expect)


class HeartbeatWatcher(Node):
    """Writes the names of the nodes whose heartbeats it heard to `path` (one per line) and
    asks the graph to stop once it has heard each of `expect`."""

    heartbeats = Input(msgs.Heartbeat, topic="nanobot/heartbeat")
    path = Param("")
    expect = Param([])

    def setup(self):
        self.heard = set()

    def on_heartbeats(self, msg):
        self.heard.add(msg.node)
        if self.heard >= set(self.expect):
            with open(self.path, "w") as f:
                f.write("".join("%s\n" % name for name in sorted(self.heard)))
            self.request_shutdown("heard every node")


class CrashOnce(Node):
    """Dies (exit status 7) the first time it starts, as marked by a file; then counts."""

    count = Output(msgs.KeyValue, topic="count")
    marker = Param("")

    def setup(self):
        if not os.path.exists(self.marker):
            open(self.marker, "w").close()
            os._exit(7)
        self.n = 0
        self.every(0.01, self.tick)

    def tick(self):
        self.count.publish(msgs.KeyValue(values={"n": self.n, "pid": os.getpid()}))
        self.n += 1


class Releaser(Node):
    """Stands for a hardware node: writes `path` in teardown (where hardware is released)."""

    path = Param("")
    hang = Param(False, help="hang in teardown, to test the supervisor's kill")

    def setup(self):
        with open(self.path + ".up", "w") as f:
            f.write(str(os.getpid()))

    def teardown(self):
        if self.hang:
            time.sleep(3600)
        with open(self.path, "w") as f:
            f.write("released")


class FrameSource(Node):
    """Publishes numbered frames (every pixel frame_id % 256) every `period` seconds."""

    image = Output(msgs.Image, topic="camera/image")
    period = Param(0.02)
    width = Param(64)
    height = Param(48)

    def setup(self):
        self.n = 0
        self.every(self.period, self.tick)

    def tick(self):
        self.n += 1
        data = np.full((self.height, self.width, 3), self.n % 256, np.uint8)
        self.image.publish(msgs.Image(data=data, frame_id=self.n, stamp=self.now_ns()))


class FrameChecker(Node):
    """Checks each frame's pixels against its frame_id; writes 'frames bad from_slot' to
    `path` and ends the graph after `expect` frames."""

    image = Input(msgs.Image, topic="camera/image")
    path = Param("")
    expect = Param(10)

    def setup(self):
        self.seen = self.bad = self.from_slot = 0

    def on_image(self, msg):
        self.seen += 1
        self.bad += int(not (msg.data == msg.frame_id % 256).all())
        self.from_slot += int(type(msg.data.base).__name__ == "_Lease")
        if self.seen == self.expect:
            with open(self.path, "w") as f:
                f.write("%d %d %d" % (self.seen, self.bad, self.from_slot))
            self.request_shutdown("checked %d frames" % self.seen)


class Lamp(Node):
    """Stands for a hardware node: says which header pin its params make it drive."""

    pin = Param(12)

    @classmethod
    def pins(cls, params):
        return {params["pin"]: "lamp"}
