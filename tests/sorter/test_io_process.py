"""The cell group under the process executor: the io node hosts the simulated world in real
time and the camera node reads it in the same process; another process receives both."""

import json

from io_standins import CellWatcher, ScriptedScheduler

from apps.sorter.io import IONode
from nanobot.executors.process import ProcessExecutor
from nanobot.graph import Graph
from nanobot.nodes.camera import CameraNode


def test_cell_group_in_one_process_feeds_a_consumer_in_another(tmp_path):
    out = str(tmp_path / "seen.json")
    graph = Graph("cellproc", seed=2)
    graph.add(IONode, "io", {"hal": "sim", "seed": 2}, group="cell")
    graph.add(CameraNode, "camera", {"uri": "sim://conveyor", "width": 320, "height": 240},
              group="cell")  # fmt: skip
    graph.add(ScriptedScheduler, "scheduler")
    graph.add(CellWatcher, "watcher", {"path": out, "frames": 40})
    executor = ProcessExecutor(graph.check())
    assert [w.group for w in executor.workers] == ["cell", "scheduler", "watcher"]
    assert executor.run(until=60) == 0
    with open(out) as f:
        seen = json.load(f)
    images, belts = seen["images"], seen["belts"]
    assert all(shape == [240, 320, 3] for _, _, shape, _ in images)
    ids = [i for i, _, _, _ in images]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stamps = [s for _, s, _, _ in images]
    assert stamps == sorted(stamps) and stamps[0] > 1e18  # the wall clock, ns since the epoch
    positions = [p for _, _, p, _ in belts]
    assert positions == sorted(positions)  # the belt only moves forward
    assert belts[-1][3] and positions[-1] > 0  # running, and the world's encoder counts
