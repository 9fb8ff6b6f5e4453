"""The README's example node runs as shown."""

import types

import numpy as np

from nanobot.executors.sim import SimExecutor
from nanobot.graph import Graph
from nanobot.nodes.demo import PatternCamera

from docblocks import code_blocks


def test_readme_example_node_runs_in_simulation():
    ((line, source),) = code_blocks("../README.md", "python")
    module = types.ModuleType("readme_example")
    exec(compile(source, "README.md:%d" % line, "exec"), module.__dict__)
    graph = Graph("readme")
    graph.add(PatternCamera, "camera", params={"width": 32, "height": 24, "fps": 10})
    graph.add(module.Brightness, "brightness", params={"scale": 2.0})
    result = SimExecutor(graph.check(), record=["image", "brightness"]).run(until=1.0)
    frames = [p.message().data for p in result.published("image")]
    values = [p.message().values["mean"] for p in result.published("brightness")]
    assert len(frames) == 10
    assert np.allclose(values, [2.0 * f.mean() for f in frames])
