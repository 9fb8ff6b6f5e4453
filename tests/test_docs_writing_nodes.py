"""docs/writing-nodes.md works as written: its files are written out and run from here."""

import importlib
import sys

import pytest

from nanobot import graph, msgs

from docblocks import code_blocks


@pytest.fixture
def tutorial(tmp_path, monkeypatch):
    """The doc's files under tmp_path (the cwd), importable as the package `tutorial`."""
    (tmp_path / "tutorial").mkdir()
    (tmp_path / "tutorial" / "__init__.py").write_text("")
    written = []
    for lang in ("python", "yaml"):
        for _, source in code_blocks("writing-nodes.md", lang):
            first = source.split("\n", 1)[0]
            if first.startswith("# tutorial/") and ":" in first:
                path = first[2 : first.index(":")]
                (tmp_path / path).write_text(source)
                written.append(path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield written
    for name in [m for m in sys.modules if m == "tutorial" or m.startswith("tutorial.")]:
        del sys.modules[name]


def test_the_doc_holds_every_file_of_the_tutorial(tutorial):
    assert sorted(tutorial) == [
        "tutorial/graph.yaml",
        "tutorial/msgs.py",
        "tutorial/nodes.py",
        "tutorial/test_meter.py",
    ]


def test_the_message_type_is_declared(tutorial):
    from tutorial.msgs import Brightness

    assert msgs.lookup("tutorial/Brightness") is Brightness
    assert Brightness.array_fields == ("bands",)
    assert Brightness.header_fields == ("mean", "bright", "frame_id")


def test_the_node_declares_its_ports_and_params(tutorial):
    from tutorial.nodes import BrightnessMeter

    assert list(BrightnessMeter.inputs) == ["image"]
    assert list(BrightnessMeter.outputs) == ["brightness", "status"]
    assert {n: p.default for n, p in BrightnessMeter.params.items()} == {
        "threshold": 128.0,
        "bands": 4,
        "report_period": 1.0,
    }


def test_the_graph_file_loads_and_checks(tutorial):
    g = graph.load("tutorial/graph.yaml", ["meter.threshold=90"])
    assert list(g.nodes) == ["camera", "meter"]
    assert g.nodes["meter"].params == {"threshold": 90, "bands": 4}
    assert dict(g.topics()) == {
        "camera/image": "nanobot/Image",
        "brightness": "tutorial/Brightness",
        "status": "nanobot/Status",
    }


def test_the_graph_file_refuses_a_bad_param(tutorial):
    with pytest.raises(graph.GraphError, match=r"graph\.yaml.*node 'meter'.*must be within"):
        graph.load("tutorial/graph.yaml", ["meter.threshold=300"])


def test_the_simulation_test_passes(tutorial):
    try:
        importlib.import_module("nanobot.executors.sim")
    except ImportError as e:
        pytest.skip(f"nanobot.executors.sim is not on this branch yet ({e})")
    module = importlib.import_module("tutorial.test_meter")
    tests = [getattr(module, n) for n in sorted(vars(module)) if n.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()
