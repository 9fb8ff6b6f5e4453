"""`nanobot detect`: build, run, bench and selftest, through the command's own entry point."""

import json
import os
import sys

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from nanobot.vision import cli  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")
YOLO = os.path.join(DATA, "grid_yolov8.onnx")


@pytest.fixture
def picture(tmp_path):
    """A PNG whose red square the grid model finds at (32, 16, 48, 32)."""
    image = np.zeros((96, 128, 3), np.uint8)
    image[16:32, 32:48] = (0, 0, 255)
    path = str(tmp_path / "red.png")
    cv2.imwrite(path, image)
    return path


def test_run_prints_the_detections_of_each_frame(picture, capsys):
    assert cli.main(["detect", "run", YOLO, "--input", picture, "--backend", "opencv"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("frame 0 (") and out[0].endswith("1 found: red 1.00 [32, 16, 48, 32]")


def test_run_json_lines(picture, capsys):
    argv = ["detect", "run", YOLO, "--input", "file://" + picture, "--backend", "opencv"]
    assert cli.main([*argv, "--json", "--max-frames", "1"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["frame"] == 0 and set(record["ms"]) == {"pre", "infer", "post"}
    assert record["detections"] == [
        {
            "label": "red",
            "class_id": 0,
            "score": pytest.approx(0.9975, abs=1e-3),
            "box": [32, 16, 48, 32],
        }
    ]


def test_run_names_a_missing_input_in_one_line(tmp_path, capsys):
    missing = str(tmp_path / "nope.png")
    assert cli.main(["detect", "run", YOLO, "--input", missing, "--backend", "opencv"]) == 2
    err = capsys.readouterr().err
    last = err.splitlines()[-1]
    assert last.startswith("nanobot: error: ") and last.endswith("nope.png does not exist")
    assert "Traceback" not in err


def test_bench_json_reports_each_backend(capsys):
    argv = ["detect", "bench", YOLO, "--backend", "opencv", "--frames", "5", "--warmup", "1"]
    assert cli.main([*argv, "--size", "160x120", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["frame"] == [160, 120]
    (result,) = report["results"]
    assert result["backend"] == "opencv" and result["frames"] == 5 and result["input"] == [64, 64]
    assert result["fps"] > 0 and result["p90_ms"] >= result["p50_ms"] > 0


def test_selftest_passes_on_opencv(capsys):
    assert cli.main(["detect", "selftest", "--backend", "opencv"]) == 0
    assert "selftest passed: found red 1.00 [32.0, 16.0, 48.0, 32.0]" in capsys.readouterr().out


def test_build_without_tensorrt_says_what_to_do(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorrt", None)
    assert cli.main(["detect", "build", YOLO]) == 2
    assert "nanobot: error: TensorRT is not installed: on a Jetson it comes with JetPack" in (
        capsys.readouterr().err
    )


def test_tensorrt_standin_build_then_cached(monkeypatch, tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="the TensorRT stand-in runs models in onnxruntime")
    import trt_standin

    trt_standin.install(monkeypatch, "8.2")
    argv = ["detect", "build", YOLO, "--cache-dir", str(tmp_path)]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.startswith("built engine %s" % tmp_path)
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.startswith("cached engine %s" % tmp_path)
    assert (
        cli.main(["detect", "selftest", "--backend", "tensorrt", "--cache-dir", str(tmp_path)]) == 0
    )
