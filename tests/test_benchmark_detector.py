"""The detector benchmark's plumbing: it runs end to end (three node processes and the bare
loop) and reports every figure. Speed targets are not asserted here; the figures live in
docs/performance.md.
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


def test_bare_runs_before_and_after_are_pooled(report):
    bare, count = report["bare"], report["settings"]["count"]
    assert len(bare["runs"]) == 2
    for run in bare["runs"]:
        assert run["calls"] == count and run["fps"] > 0
        assert set(run["latency_ms"]) == LATENCY_KEYS and run["latency_ms"]["count"] == count
        assert set(run["stage_ms"]) == {"pre", "infer", "post"}
    assert bare["fps"] == pytest.approx(sum(r["fps"] for r in bare["runs"]) / 2)


def test_node_runs_record_every_detection_from_a_camera_in_another_process(report):
    count, bare_fps = report["settings"]["count"], report["bare"]["runs"][0]["fps"]
    saturated, paced = report["node"]["saturated"], report["node"]["paced"]
    assert saturated["camera_fps_requested"] == pytest.approx(1.25 * bare_fps)
    assert paced["camera_fps_requested"] == pytest.approx(min(bare_fps / 2, 50.0))
    for run in (saturated, paced):
        assert run["detections"] == count and run["fps"] > 0 and run["camera_fps"] > 0
        assert set(run["latency_ms"]) == LATENCY_KEYS
        assert 0 < run["latency_ms"]["min"] <= run["latency_ms"]["p50"]
        assert run["frames_skipped"] >= 0


def test_ratios_and_targets_follow_from_the_figures(report):
    bare, node = report["bare"], report["node"]
    assert report["throughput_ratio"] == pytest.approx(node["saturated"]["fps"] / bare["fps"])
    added = node["paced"]["latency_ms"]["p50"] - bare["latency_ms_p50"]
    assert report["added_latency_ms_p50"] == pytest.approx(added)
    assert report["targets"] == {"throughput_ratio": 0.95, "added_latency_ms_p50": 2.0}
    assert report["meets_target"] == {
        "throughput": report["throughput_ratio"] >= 0.95,
        "latency": report["added_latency_ms_p50"] <= 2.0,
    }


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
