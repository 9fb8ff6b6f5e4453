"""CameraNode: sim:// on a timer under the simulation executor (deterministic), and the
reader-thread path on the wall clock (sim://counter; test:// with real GStreamer)."""

import hashlib

import pytest
import zmq

from hal.camera import gst
from hal.gpio import DrivenClock
from nanobot import endpoints, msgs
from nanobot.executors.sim import SimError, SimExecutor
from nanobot.graph import Graph
from nanobot.node import Node
from nanobot.nodes.camera import CameraNode
from nanobot.runtime import NodeThread
from nanobot.transport import Subscriber
from sims.conveyor import World
from sims.conveyor.hardware import SimCell

from conftest import wait_for

needs_gstreamer = pytest.mark.skipif(
    not gst.available(), reason="GStreamer through PyGObject (gi) cannot be imported here"
)


class WorldHost(Node):
    """Hosts a conveyor world on the graph clock, as the sorter's io node does."""

    def setup(self):
        self.cell = SimCell(World(seed=4), clock=DrivenClock(self.now), camera="camtest")
        self.cell.world.set_motor(0.7)

    def teardown(self):
        self.cell.close()


def frames(seconds=1.0):
    graph = Graph("cam", seed=1)
    graph.add(WorldHost, "world")
    graph.add(CameraNode, "camera", {"uri": "sim://camtest", "width": 320, "height": 240})
    result = SimExecutor(graph, record=["image"]).run(until=seconds)
    return [p.message() for p in result.published("image")]


def test_sim_frames_come_on_the_virtual_clock_and_repeat_bit_for_bit():
    first, second = frames(), frames()
    assert [f.stamp for f in first] == [k * 33_333_333 for k in range(1, 31)]  # the timer
    assert [f.frame_id for f in first] == list(range(1, 31))
    assert first[0].data.shape == (240, 320, 3) and first[0].encoding == "bgr8"
    digest = [hashlib.sha1(f.data.tobytes()).hexdigest() for f in first]
    assert digest == [hashlib.sha1(f.data.tobytes()).hexdigest() for f in second]
    assert len(set(digest)) == 30  # the belt moves: every frame differs


def test_an_unregistered_sim_camera_says_to_group_it_with_the_world():
    graph = Graph("cam2")
    graph.add(CameraNode, "camera", {"uri": "sim://nowhere"})
    with pytest.raises(SimError, match="same group as the camera and before it"):
        SimExecutor(graph).run(until=0.1)


def read_frames(uri, n=3):
    endpoints.prepare("camwall")
    node = CameraNode("camera", {"uri": uri, "width": 160, "height": 120, "fps": 30.0})
    plan = {"image": [endpoints.ipc_endpoint("camwall", "camera", "image")]}
    ctx = zmq.Context()
    sub = Subscriber(ctx, "image", plan["image"], msgs.Image)
    runner = NodeThread(node, plan, context=ctx)
    runner.start()
    got = []
    try:
        wait_for(
            lambda: len(got) >= n, poll=lambda: (sub.drain(), got.extend(iter(sub.take, None)))
        )
    finally:
        assert runner.stop()
        sub.close()
        ctx.term()
    return got


def test_on_the_wall_clock_a_reader_thread_publishes_each_new_frame():
    got = read_frames("sim://counter")
    assert all(f.data.shape == (120, 160, 3) for f in got)
    ids = [f.frame_id for f in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stamps = [f.stamp for f in got]
    assert stamps == sorted(stamps) and stamps[0] > 1e18  # capture times, ns since the epoch


@needs_gstreamer
def test_a_real_gstreamer_test_pattern():
    got = read_frames("test://smpte")
    assert all(f.data.shape == (120, 160, 3) and f.data.any() for f in got)
