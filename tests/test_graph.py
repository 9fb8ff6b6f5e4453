"""Graph files: loading, every kind of problem reported with file:line, plans, views."""

import re
import textwrap

import pytest

from nanobot import graph as graphs
from nanobot.graph import Graph, GraphError
from nanobot.msgs import Image, KeyValue
from nanobot.node import Input, Node, Output

from example_nodes import Lamp


class Cam(Node):
    image = Output(Image)


class Viewer(Node):
    image = Input(Image)


class Texter(Node):
    image = Output(KeyValue)


class Status(Node):
    status = Output(KeyValue, shared=True)


def write(tmp_path, text):
    p = tmp_path / "g.yaml"
    p.write_text(textwrap.dedent(text))
    return str(p)


def problems(tmp_path, text, overrides=()):
    with pytest.raises(GraphError) as e:
        graphs.load(write(tmp_path, text), overrides)
    return e.value.problems


def test_demo_graph_loads_and_overrides_apply():
    g = graphs.load("nanobot/graphs/demo.yaml", ["camera.fps=60", "camera.width=320"])
    assert list(g.nodes) == ["camera", "monitor"]
    node = g.nodes["camera"].create()
    assert node.fps == 60.0 and node.width == 320
    assert g.topics() == {"camera/image": "nanobot/Image", "report": "nanobot/KeyValue"}


BAD_NODES = """\
graph: g
nodes:
  cam:
    class: test_graph:Cam
    params: {fps: 3}
  view:
    class: test_graph:Viewer
    remap: {image: camera/image, bogus: x}
"""


def test_every_problem_is_reported_with_file_line_node_and_topic(tmp_path):
    path = str(tmp_path / "g.yaml")
    # Classes that do not import are reported first (nothing else can be checked of them)...
    got = problems(
        tmp_path,
        BAD_NODES
        + "  ghost:\n    class: test_graph:Nope\n  other:\n    class: no_such_module:Thing\n",
    )
    assert got == [
        "%s:9: node 'ghost': unknown class 'test_graph:Nope': module test_graph has no Nope" % path,
        "%s:11: node 'other': unknown class 'no_such_module:Thing': cannot import "
        "no_such_module (No module named 'no_such_module')" % path,
    ]
    # ...then every problem of the nodes whose classes are known.
    assert problems(tmp_path, BAD_NODES) == [
        "%s:3: node 'cam': Cam has no param 'fps' (params: none)" % path,
        "%s:6: node 'view': cannot remap 'bogus'; Viewer has ports image" % path,
    ]


def test_topic_problems(tmp_path):
    path = str(tmp_path / "g.yaml")
    got = problems(
        tmp_path,
        """\
        graph: g
        nodes:
          view:
            class: test_graph:Viewer
            remap: {image: camera/image}
          text:
            class: test_graph:Texter
          cam1: {class: "test_graph:Cam"}
          cam2: {class: "test_graph:Cam"}
        """,
    )
    assert got == [
        "%s:3: node 'view' input 'image': no node publishes topic 'camera/image' "
        "(published topics: image)" % path,
        "%s:9: topic 'image' is published by nodes 'text', 'cam1', 'cam2'; remap one of "
        "them, or declare the output shared=True in every class" % path,
    ]
    got = problems(
        tmp_path,
        """\
        graph: g
        nodes:
          view: {class: "test_graph:Viewer"}
          text: {class: "test_graph:Texter"}
        """,
    )
    assert got == [
        "%s:3: node 'view' input 'image' expects nanobot/Image on topic 'image', but node "
        "'text' publishes nanobot/KeyValue" % path
    ]


def test_shared_outputs_and_duplicate_names(tmp_path):
    g = graphs.load(
        write(
            tmp_path,
            """\
            graph: g
            nodes:
              a: {class: "test_graph:Status"}
              b: {class: "test_graph:Status"}
            """,
        )
    )
    assert [n.name for n, _, _ in g.publishers("status")] == ["a", "b"]
    got = problems(
        tmp_path,
        """\
        graph: g
        nodes:
          a: {class: "test_graph:Status"}
          a: {class: "test_graph:Status"}
        """,
    )
    assert got == ["%s:4: 'a' appears twice (first at line 3)" % (tmp_path / "g.yaml")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("graph: g\nnodes: {}\n", "needs 'graph: <name>' and a non-empty 'nodes:' mapping"),
        ("graph: g\nnodez: {}\n", ":2: unknown key 'nodez' (allowed: graph, seed, hosts, nodes)"),
        ("graph: [\n", "is not valid YAML"),
        ("graph: g\nnodes:\n  a: {klass: x}\n", ":3: node 'a' needs a 'class: module:Class'"),
        (
            "graph: g\nnodes:\n  a: {class: 'test_graph:Cam', restart: sometimes}\n",
            ":3: node 'a': restart 'sometimes' is not one of never, on-failure, always",
        ),
        (
            "graph: g\nnodes:\n  a: {class: 'test_graph:Cam', host: pi}\n",
            ":3: node 'a': names host 'pi' but the graph declares no hosts",
        ),
    ],
)
def test_malformed_files(tmp_path, text, message):
    got = problems(tmp_path, text)
    assert any(message in p for p in got), got


def test_set_overrides_are_checked(tmp_path):
    assert problems(tmp_path, "", ["x"]) != []  # an empty file is an error first
    with pytest.raises(
        GraphError, match=re.escape("--set 'camera' must be written node.param=value")
    ):
        graphs.load("nanobot/graphs/demo.yaml", ["camera"])
    with pytest.raises(
        GraphError, match=re.escape("--set cam.fps: no node 'cam'; nodes: camera, monitor")
    ):
        graphs.load("nanobot/graphs/demo.yaml", ["cam.fps=2"])
    with pytest.raises(GraphError, match="param 'fps' must be float, not 'fast'"):
        graphs.load("nanobot/graphs/demo.yaml", ["camera.fps=fast"])


def test_missing_file_is_one_sentence():
    with pytest.raises(
        GraphError, match=re.escape("cannot read graph file nope.yaml: No such file")
    ):
        graphs.load("nope.yaml")


def test_ipc_plan_on_one_host(monkeypatch):
    monkeypatch.setenv("NANOBOT_IPC_DIR", "/run/nb")
    g = Graph("g")
    g.add(Cam, "cam", remap={"image": "camera/image"})
    g.add(Viewer, "view", remap={"image": "camera/image"})
    g.check()
    assert g.plan("cam") == {
        "image": ["ipc:///run/nb/g/camera%2Fimage@cam", "inproc://g/camera%2Fimage@cam"],
        "nanobot/heartbeat": [
            "ipc:///run/nb/g/nanobot%2Fheartbeat@cam",
            "inproc://g/nanobot%2Fheartbeat@cam",
        ],
    }
    assert g.plan("view")["image"] == ["ipc:///run/nb/g/camera%2Fimage@cam"]


def test_nodes_of_one_group_connect_in_process(monkeypatch):
    monkeypatch.setenv("NANOBOT_IPC_DIR", "/run/nb")
    g = Graph("g")
    g.add(Cam, "cam", group="vision")
    g.add(Viewer, "near", group="vision")
    g.add(Viewer, "far")
    g.check()
    assert g.plan("near")["image"] == ["inproc://g/image@cam"]
    assert g.plan("far")["image"] == ["ipc:///run/nb/g/image@cam"]
    text = g.describe()
    assert "<- image  (nanobot/Image, keep_last=1, in-process from cam)" in text
    assert text.count("in-process") == 1  # far hears cam from another process


def test_tcp_plan_across_hosts(monkeypatch):
    monkeypatch.setenv("NANOBOT_IPC_DIR", "/run/nb")
    hosts = {"board": {"address": "10.0.0.2", "port_base": 7000}, "pc": {"address": "10.0.0.3"}}
    g = Graph("g", hosts=hosts)
    g.add(Cam, "cam", host="board")
    g.add(Viewer, "local", host="board")
    g.add(Viewer, "remote", host="pc")
    g.check()
    assert g.plan("cam")["image"] == [
        "ipc:///run/nb/g/image@cam",
        "inproc://g/image@cam",
        "tcp://*:7000",
    ]
    assert g.plan("cam")["nanobot/heartbeat"] == [
        "ipc:///run/nb/g/nanobot%2Fheartbeat@cam",
        "inproc://g/nanobot%2Fheartbeat@cam",
        "tcp://*:7001",
    ]
    assert g.plan("local")["image"] == ["ipc:///run/nb/g/image@cam"]
    assert g.plan("remote")["image"] == ["tcp://10.0.0.2:7000"]
    assert g.plan("remote")["nanobot/heartbeat"] == [
        "ipc:///run/nb/g/nanobot%2Fheartbeat@remote",
        "inproc://g/nanobot%2Fheartbeat@remote",
        "tcp://*:7600",
    ]


def test_groups_share_host_and_restart_policy():
    g = Graph("g")
    g.add(Cam, "cam", group="io", restart="always")
    g.add(Viewer, "view", group="io")
    with pytest.raises(GraphError, match="node 'view' shares group 'io' with node 'cam' but not"):
        g.check()


def test_views_and_round_trip():
    g = graphs.load("nanobot/graphs/demo.yaml")
    text = g.describe()
    assert "camera  [nanobot.nodes.demo:PatternCamera]" in text
    assert "in     image        <- camera/image  (nanobot/Image, keep_last=1)" in text
    dot = g.to_dot()
    assert '"n:camera" -> "t:camera/image";' in dot and '"t:camera/image" -> "n:monitor";' in dot
    again = Graph.from_dict(g.to_dict())
    assert again.to_dict() == g.to_dict()


def test_two_nodes_claiming_one_header_pin_is_an_error():
    g = Graph("g")
    g.add(Lamp, "a", where="g.yaml:3: ")
    g.add(Lamp, "b", where="g.yaml:5: ")
    with pytest.raises(GraphError) as e:
        g.check()
    assert e.value.problems == [
        "g.yaml:5: node 'b' uses header pin 12 (lamp), which node 'a' already uses (lamp)"
    ]
    g.set_param("b", "pin", 16)
    assert g.check().pins() == {12: ("a", "lamp"), 16: ("b", "lamp")}


def test_nodes_on_different_hosts_may_use_the_same_pin_number():
    hosts = {"a": {"address": "10.0.0.1"}, "b": {"address": "10.0.0.2"}}
    g = Graph("g", hosts=hosts)
    g.add(Lamp, "one", host="a")
    g.add(Lamp, "two", host="b")
    assert g.check().pins("b") == {12: ("two", "lamp")}
