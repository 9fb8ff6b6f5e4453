"""The detector benchmark's plumbing: it runs end to end (three node processes, one of them
running the bare loop between the node phases) and reports every figure. Speed targets are
not asserted here; the figures live in docs/performance.md.
"""

import os
import re
import sys

import pytest
from benchmark_run import ROOT, run_json

pytest.importorskip("cv2")

from benchmarks import detector

LATENCY_KEYS = {"count", "min", "p50", "p90", "p99", "max", "mean"}


@pytest.fixture(scope="module")
def report():
    return run_json("benchmarks.detector", "--quick")


def test_report_names_the_machine_model_and_frames(report):
    m = report["machine"]
    assert m["cores"] >= 1 and m["cpu"] and m["opencv"][0].isdigit()
    assert m["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    model = os.path.join(ROOT, report["settings"]["model"])
    # A card names its ONNX file, which the detector then describes.
    assert m["detector"].startswith(re.sub(r"\.card\.yaml$", ".onnx", model))
    s = report["settings"]
    assert s["model"] == os.path.relpath(detector.default_model(), ROOT)
    assert s["backend"] in ("onnxruntime", "opencv")
    assert s["frame_shape"] == [480, 640, 3] and s["frames"] == 10
    assert report["date"].endswith("Z")


def test_each_node_phase_lies_between_two_bare_phases(report):
    count, rounds = report["settings"]["count"], report["rounds"]
    assert report["settings"]["rounds"] == len(rounds) == 1  # --quick
    assert len(report["bare"]) == 2 * len(rounds) + 1  # bare, sat, bare, paced, bare
    paced_fps = rounds[0]["paced"]["camera_fps_requested"]
    for run in report["bare"]:
        for loop in (run, run["paced"]):  # back to back, then at the camera's paced rate
            assert loop["calls"] == count and loop["fps"] > 0
            assert set(loop["latency_ms"]) == LATENCY_KEYS
            assert loop["latency_ms"]["count"] == count
            assert set(loop["stage_ms"]) == {"pre", "infer", "post"}
        # paced: `count` calls take at least count - 1 periods
        assert run["paced"]["fps"] <= paced_fps * count / (count - 1) + 1e-6
    first, between, last = report["bare"]
    assert rounds[0]["bare_fps"] == pytest.approx((first["fps"] + between["fps"]) / 2)
    assert rounds[0]["bare_latency_ms_p50"] == pytest.approx(
        (between["latency_ms"]["p50"] + last["latency_ms"]["p50"]) / 2
    )
    assert rounds[0]["bare_paced_latency_ms_p50"] == pytest.approx(
        (between["paced"]["latency_ms"]["p50"] + last["paced"]["latency_ms"]["p50"]) / 2
    )


def test_node_runs_record_every_detection_from_a_camera_in_another_process(report):
    count, bare_fps = report["settings"]["count"], report["bare"][0]["fps"]
    saturated, paced = report["rounds"][0]["saturated"], report["rounds"][0]["paced"]
    assert saturated["camera_fps_requested"] == pytest.approx(1.25 * bare_fps)
    assert paced["camera_fps_requested"] == pytest.approx(min(bare_fps / 2, 50.0))
    for run in (saturated, paced):
        assert run["detections"] == count and run["fps"] > 0 and run["camera_fps"] > 0
        assert set(run["latency_ms"]) == LATENCY_KEYS
        assert 0 < run["latency_ms"]["min"] <= run["latency_ms"]["p50"]
        assert run["frames_skipped"] >= 0
        share = run["detect_share"]  # from the detector's reports every 0.25 s
        assert share is None or 0 < share <= 1.02  # stage times and wall time, two clocks


def test_ratios_and_targets_follow_from_the_figures(report):
    rnd = report["rounds"][0]
    assert rnd["throughput_ratio"] == pytest.approx(rnd["saturated"]["fps"] / rnd["bare_fps"])
    node_p50 = rnd["paced"]["latency_ms"]["p50"]
    assert rnd["added_latency_ms_p50"] == pytest.approx(node_p50 - rnd["bare_paced_latency_ms_p50"])
    assert rnd["added_latency_vs_loop_ms_p50"] == pytest.approx(
        node_p50 - rnd["bare_latency_ms_p50"]
    )
    assert report["throughput_ratio"] == rnd["throughput_ratio"]  # the median of one round
    assert report["saturated_detect_share"] == rnd["saturated"]["detect_share"]
    assert report["added_latency_ms_p50"] == rnd["added_latency_ms_p50"]
    assert report["added_latency_vs_loop_ms_p50"] == rnd["added_latency_vs_loop_ms_p50"]
    assert report["targets"] == {"throughput_ratio": 0.95, "added_latency_ms_p50": 2.0}
    assert report["meets_target"] == {
        "throughput": report["throughput_ratio"] >= 0.95,
        "latency": report["added_latency_ms_p50"] <= 2.0,
    }


def test_each_node_phase_is_compared_with_the_bare_phases_around_it():
    def bare(fps, loop_p50, paced_p50):
        return {
            "fps": fps,
            "latency_ms": {"p50": loop_p50},
            "paced": {"latency_ms": {"p50": paced_p50}},
        }

    bares = [bare(100, 5.0, 6.0), bare(80, 7.0, 8.0), bare(60, 9.0, 10.0)]
    sat = {"fps": 90.0, "latency_ms": {"p50": 8.0}}
    paced = {"fps": 30.0, "latency_ms": {"p50": 11.0}}
    r = detector.compare(bares, {"saturated": sat, "paced": paced})
    assert r["throughput_ratio"] == 1.0  # 90 fps against 100 before and 80 after
    assert r["added_latency_ms_p50"] == 2.0  # 11 ms against 8 before and 10 after, paced
    assert r["added_latency_vs_loop_ms_p50"] == 3.0  # against 7 and 9 back to back


def test_the_detect_share_weighs_each_report_by_its_time():
    reports = [
        {"fps": 100.0, "frames": 50, "pre_ms": 1.0, "infer_ms": 8.0, "post_ms": 0.5},  # 0.5 s
        {"fps": 50.0, "frames": 50, "pre_ms": 1.0, "infer_ms": 8.0, "post_ms": 1.0},  # 1 s
    ]
    # 50 x 9.5 ms + 50 x 10 ms of detect() in 1.5 s
    assert detector.detect_share(reports) == pytest.approx(0.975 / 1.5)
    assert detector.detect_share([]) is None


def test_the_default_model_is_the_sorters_card_when_there_is_one(tmp_path, monkeypatch):
    assert detector.default_model() in (detector.BUNDLED_MODEL, *detector_cards())
    card = tmp_path / "apps" / "sorter" / "models" / "sorter.card.yaml"
    card.parent.mkdir(parents=True)
    card.write_text("model: sorter.onnx\n")
    monkeypatch.setattr(detector, "SORTER_CARDS", str(card.parent / "*.card.yaml"))
    assert detector.default_model() == str(card)


def detector_cards():
    import glob

    return glob.glob(detector.SORTER_CARDS)


def test_rounds_say_how_much_cpu_time_the_hypervisor_took(report):
    steal = report["rounds"][0]["cpu_steal_percent"]
    if os.path.exists("/proc/stat"):
        assert 0.0 <= steal <= 100.0
    else:
        assert steal is None


def test_steal_is_the_share_of_the_eighth_counter():
    from benchmarks.transport import steal_percent

    before = [100, 0, 50, 800, 0, 0, 0, 50, 0, 0]
    after = [160, 0, 60, 900, 0, 0, 0, 80, 0, 0]  # 200 ticks, 30 of them stolen
    assert steal_percent(before, after) == 15.0
    assert steal_percent(None, after) is None and steal_percent(after, after) is None
