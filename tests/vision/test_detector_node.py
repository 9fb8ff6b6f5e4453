"""DetectorNode on node threads over real sockets, fed frames by another node, running a
real ONNX model (OpenCV DNN: present on every Python this runs on)."""

import os
import threading

import numpy as np
import pytest

from conftest import wait_for

pytest.importorskip("cv2")

from nanobot import endpoints, msgs
from nanobot.node import Node, Output, ParamError
from nanobot.nodes.detector import DetectorNode
from nanobot.runtime import NodeThread
from nanobot.transport import Subscriber

MODEL = os.path.join(os.path.dirname(__file__), "data", "grid_yolov8.onnx")
GRAPH = "det"


class Camera(Node):
    image = Output(msgs.Image)


def frame(bgr_color=(0, 0, 255)):
    """128x96 with one coloured square that lands on input cell (2, 2): box (32, 16, 48, 32)."""
    data = np.zeros((96, 128, 3), np.uint8)
    data[16:32, 32:48] = bgr_color
    return data


def plan(node, inputs_from=()):
    p = {n: [endpoints.ipc_endpoint(GRAPH, node.name, node._ports[n].topic)] for n in node.outputs}
    for n in node.inputs:
        p[n] = [endpoints.ipc_endpoint(GRAPH, src, node._ports[n].topic) for src in inputs_from]
    return p


@pytest.fixture
def graph(ctx):
    endpoints.prepare(GRAPH)
    runners, subs = [], []

    def start(node, inputs_from=()):
        r = NodeThread(node, plan(node, inputs_from), context=ctx)
        r.start()
        runners.append(r)
        return r

    def listen(node_name, topic, msg_type):
        s = Subscriber(ctx, topic, [endpoints.ipc_endpoint(GRAPH, node_name, topic)], msg_type)
        subs.append(s)
        return s

    yield start, listen
    for s in subs:
        s.close()
    for r in runners:
        assert r.stop(), "node thread did not stop"


def test_detections_carry_the_frame_stamp_and_id(graph):
    start, listen = graph
    camera = start(Camera("camera")).node
    params = {"model": MODEL, "backend": "opencv", "annotate": True, "stats_period": 0.2}
    detector = start(DetectorNode("detector", params), ["camera"])
    found = listen("detector", "detections", msgs.Detections)
    drawn = listen("detector", "detections/image", msgs.Image)
    stats = listen("detector", "detections/stats", msgs.KeyValue)
    sent = {}

    def pump():
        n = len(sent) + 1
        sent[n] = 1000 + n
        camera.image.publish(msgs.Image(data=frame(), frame_id=n, stamp=sent[n]))
        for s in (found, drawn, stats):
            s.drain()

    wait_for(lambda: found.depth >= 3 and drawn.depth >= 1 and stats.depth >= 1, poll=pump)
    d = found.take()
    assert d.image_stamp == sent[d.image_frame_id] and d.image_frame_id in sent
    assert (d.image_width, d.image_height) == (128, 96)
    assert [d.label(i) for i in range(len(d))] == ["red"]
    np.testing.assert_allclose(d.boxes, [[32, 16, 48, 32]], atol=1e-3)
    image = drawn.take()
    assert image.data.shape == (96, 128, 3) and image.frame_id in sent
    assert not np.array_equal(image.data, frame())  # something was drawn
    report = stats.take().values
    assert report["backend"] == "opencv" and report["infer_ms"] > 0
    assert detector.stats.callbacks >= 3


def test_a_slow_detector_skips_to_the_newest_frame(graph):
    """While frame 1 is being processed, frames 2..11 arrive: the next one processed is the
    newest, the ones in between are dropped, never queued."""
    start, listen = graph
    gate, busy = threading.Event(), threading.Event()

    class Gated(DetectorNode):
        def on_image(self, msg):
            if msg.frame_id == 1 and not busy.is_set():
                busy.set()
                gate.wait(10)
            super().on_image(msg)

    camera = start(Camera("camera")).node
    runner = start(Gated("detector", {"model": MODEL, "backend": "opencv"}), ["camera"])
    found = listen("detector", "detections", msgs.Detections)
    sub = dict(runner.subs)[runner.node._ports["image"]]
    # Frames that reach this probe reach the detector's socket too (same host, same sender),
    # where they wait while its thread is busy in the callback.
    probe = listen("camera", camera._ports["image"].topic, msgs.Image)

    def send(n):
        return lambda: camera.image.publish(msgs.Image(data=frame(), frame_id=n))

    def probed(n):
        probe.drain()
        return probe.take() is not None and probe.latest.frame_id == n

    def arrives(n):  # ZeroMQ may drop a frame in a burst: send until one gets there
        wait_for(lambda: probed(n), poll=send(n))

    wait_for(lambda: found.depth >= 1, poll=lambda: (send(0)(), found.drain()))  # connected
    wait_for(busy.is_set, poll=send(1))
    for n in range(2, 12):
        arrives(n)
    gate.set()
    ids = []

    def collect():
        found.drain()
        ids.extend(d.image_frame_id for d in iter(found.take, None))

    wait_for(lambda: 11 in ids, poll=collect)
    after = [i for i in ids if i != 0]  # 0s: the warm-up frames
    # 11, or 10 if 11 was still on its way to the detector when the probe had it.
    assert after[0] == 1 and after[1] >= 10, after
    skipped = after[1] - 2  # frames 2..after[1]-1 were replaced in the queue, not processed
    assert sub.dropped >= skipped
    assert runner.node.skipped == skipped


def test_a_detector_without_a_model_says_so():
    node = DetectorNode("det")
    with pytest.raises(ValueError, match="node 'det' needs a model: set its param model"):
        node.setup()
    with pytest.raises(ParamError, match="param 'backend' of node 'd' must be one of 'auto'"):
        DetectorNode("d", {"backend": "cuda"})


@pytest.mark.parametrize("encoding", ["rgb8", "mono8"])
def test_other_encodings_are_converted(encoding):
    from nanobot.nodes.detector import _bgr

    bgr = frame()
    data = bgr[:, :, ::-1].copy() if encoding == "rgb8" else bgr[:, :, 2].copy()
    out = _bgr(msgs.Image(data=data, encoding=encoding))
    assert out.shape == (96, 128, 3)
    if encoding == "rgb8":
        np.testing.assert_array_equal(out, bgr)
    else:
        assert (out[20, 40] == 255).all()
