"""The whole sorter graph under the simulation executor (virtual time), with the stand-in
detector: quality targets on fixed seeds, faults, a detector outage."""

import pytest
from io_standins import SkippingIONode
from standins import StandinDetectorNode

from apps.sorter import __main__ as main
from nanobot.executors.sim import SimExecutor


def run(items, seed, *extra, detector=None, io=None):
    args = main.parser().parse_args(["--items", str(items), "--seed", str(seed), *extra])
    graph = main.build(args, "sim")
    graph.nodes["detector"].cls = StandinDetectorNode
    graph.nodes["detector"].params = dict(detector or {})
    if io is not None:
        graph.nodes["io"].cls = io
    sim = SimExecutor(graph.check(), seed=seed)
    with sim:
        sim.run_until(items * 3.0)
        report = sim.nodes["monitor"].report()
        sim.nodes["monitor"].reported = True  # keep the test's output quiet
    return report, sim


@pytest.mark.parametrize("seed", [11, 12])
def test_sorts_60_items_with_no_wrong_bin_and_no_jam(seed):
    r, _ = run(60, seed)
    assert r["items"] == 60
    assert r["wrong_bin"] == 0 and r["jams"] == 0
    assert r["placed_accuracy"] == 1.0
    assert r["accuracy"] >= 0.7  # the rest is rejected: items too close for the paddle
    assert r["latency_ms"]["p99"] < 40


@pytest.mark.parametrize(
    "faults",
    ["frame_drop=0.2", "freeze=0.05", "belt_drift=0.1", "beam_bounce=0.5", "slow_servo=0.3"],
)
def test_faults_cost_rejects_not_wrong_bins(faults):
    r, _ = run(30, 5, "--faults", faults)
    assert r["items"] == 30
    assert r["wrong_bin"] == 0 and r["jams"] == 0, r


def test_a_detector_outage_sends_what_it_missed_to_reject():
    r, _sim = run(40, 7, detector={"down": [[10.0, 16.0]]})  # 840 mm of belt: 4 items or so
    assert r["items"] == 40
    assert r["wrong_bin"] == 0 and r["jams"] == 0
    assert r["reject_reasons"].get("unobserved", 0) + r["reject_reasons"].get("undecided", 0) >= 3


def test_items_whose_extension_the_io_skipped_go_to_reject_and_hit_no_paddle():
    # the io node is held up past late_s at every extension of diverter 0 and skips them:
    # each nut rides on past paddles 1 and 2, which swing for the items behind it
    r, sim = run(60, 11, io=SkippingIONode)
    late = sim.nodes["io"].counts["late"]
    assert late >= 5 and sim.nodes["io"].counts["executed"] >= 10
    assert r["items"] == 60
    assert r["wrong_bin"] == 0 and r["jams"] == 0, r
    assert r["io"]["late"] == late  # the report says what happened
    # every rejected item is a skipped one (the last may finish after the 60th item)
    assert late - 2 <= r["rejected"] <= late and r["correct"] == 60 - r["rejected"]
