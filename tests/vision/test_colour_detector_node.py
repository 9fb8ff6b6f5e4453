"""ColourDetectorNode on node threads over real sockets, fed frames by another node; its
params checked as a graph file gives them (the graph in docs/vision.md included)."""

import os

import numpy as np
import pytest

from conftest import wait_for
from docblocks import named_block

pytest.importorskip("cv2")

from nanobot import endpoints, msgs
from nanobot.graph import Graph, GraphError, load
from nanobot.node import Node, Output, ParamError
from nanobot.nodes.colour_detector import ColourDetectorNode
from nanobot.runtime import NodeThread
from nanobot.transport import Subscriber

GRAPH = "colour"
CLASSES = [
    {"name": "red", "hsv_low": [170, 120, 70], "hsv_high": [10, 255, 255], "min_area": 50},
    {"name": "blue", "hsv_low": [105, 120, 70], "hsv_high": [135, 255, 255], "min_area": 50},
]


class Camera(Node):
    image = Output(msgs.Image)


def frame():
    """160x120 grey with a red square at (20, 30, 60, 70) and a blue one at (100, 40, 140, 80)."""
    data = np.full((120, 160, 3), 90, np.uint8)
    data[30:70, 20:60] = (30, 30, 220)
    data[40:80, 100:140] = (220, 60, 30)
    return data


def test_detections_of_frames_from_another_node(ctx):
    endpoints.prepare(GRAPH)
    params = {"classes": CLASSES, "annotate": True, "stats_period": 0.2}
    graph = Graph(GRAPH)
    graph.add(Camera, "camera")
    graph.add(ColourDetectorNode, "colours", params)
    graph.check()
    source = graph.nodes["camera"].create()
    camera = NodeThread(source, graph.plan("camera"), context=ctx)
    node = graph.nodes["colours"].create()
    detector = NodeThread(node, graph.plan("colours"), ctx)
    subs = [
        Subscriber(ctx, topic, [endpoints.ipc_endpoint(GRAPH, "colours", topic)], t)
        for topic, t in (
            ("detections", msgs.Detections),
            ("detections/image", msgs.Image),
            ("detections/stats", msgs.KeyValue),
        )
    ]
    found, drawn, stats = subs
    sent = {}
    try:
        camera.start()
        detector.start()

        def pump():
            n = len(sent) + 1
            sent[n] = 5000 + n
            camera.node.image.publish(msgs.Image(data=frame(), frame_id=n, stamp=sent[n]))
            for s in subs:
                s.drain()

        wait_for(lambda: found.depth >= 3 and drawn.depth >= 1 and stats.depth >= 1, poll=pump)
        # taken while the detector runs: a frame in shared memory goes with its publisher
        annotated = drawn.take()
    finally:
        for s in subs:
            s.close()
        assert detector.stop() and camera.stop()
    d = found.take()
    assert d.image_frame_id in sent and d.image_stamp == sent[d.image_frame_id]
    assert (d.image_width, d.image_height) == (160, 120)
    assert d.class_names == ["red", "blue"]
    boxes = {d.label(i): tuple(d.boxes[i]) for i in range(len(d))}
    assert boxes == {"red": (20, 30, 60, 70), "blue": (100, 40, 140, 80)}
    assert annotated.data.shape == (120, 160, 3)
    report = stats.take().values
    assert report["frames"] >= 1 and report["fps"] > 0
    assert sorted(k for k in report if k.endswith("_ms")) == [
        "contours_ms",
        "pre_ms",
        "threshold_ms",
    ]


def test_a_bad_class_is_a_param_error_naming_the_node_class_and_key():
    bad = [dict(CLASSES[0], hsv_low=[200, 120, 70])]
    with pytest.raises(
        ParamError,
        match=r"param 'classes' of node 'sorter': colour class 'red': hsv_low must be \[h, s, v\]",
    ):
        ColourDetectorNode("sorter", {"classes": bad})
    with pytest.raises(ParamError, match="colour class names must differ; red given twice"):
        ColourDetectorNode("sorter", {"classes": [CLASSES[0], CLASSES[0]]})
    with pytest.raises(ParamError, match="param 'blur' of node 'sorter' must be within"):
        ColourDetectorNode("sorter", {"classes": CLASSES, "blur": -1})


def test_a_node_without_classes_says_what_to_set():
    with pytest.raises(ValueError, match="node 'c' needs colour classes: set its param classes"):
        ColourDetectorNode("c").setup()
    node = ColourDetectorNode("c", {"classes": CLASSES, "blur": 4})
    with pytest.raises(ValueError, match=r"node 'c': blur must be 0 \(off\) or an odd kernel"):
        node.setup()


def write_doc_graph(tmp_path, edit=lambda text: text):
    path = os.path.join(str(tmp_path), "sort_by_colour.yaml")
    with open(path, "w") as f:
        f.write(edit(named_block("vision.md", "yaml", "sort_by_colour.yaml")))
    return path


def test_the_graph_in_the_docs_loads_and_checks(tmp_path):
    graph = load(write_doc_graph(tmp_path))
    spec = graph.nodes["colours"]
    assert spec.cls is ColourDetectorNode
    node = spec.create()
    detector = node.make_detector()
    assert detector.class_names == ["red", "green", "blue", "yellow"]
    assert detector.classes[0].wraps and detector.classes[1].circularity is not None
    assert graph.publishers(spec.topic("image"))  # fed by the camera


def test_a_typo_in_the_docs_graph_is_reported_with_file_line_and_node(tmp_path):
    path = write_doc_graph(tmp_path, lambda text: text.replace("hsv_high: [10,", "hsv_hi: [10,", 1))
    with pytest.raises(GraphError) as e:
        load(path)
    (problem,) = e.value.problems
    assert problem.startswith(path + ":")
    assert "node 'colours': param 'classes': colour class 'red': unknown key hsv_hi" in problem
