"""`nanobot detect eval` through the command's entry point, on a YOLO folder with known
answers (the grid test model finds a saturated colour square filling one 8-pixel cell)."""

import json
import os

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from nanobot.vision import cli  # noqa: E402

YOLO = os.path.join(os.path.dirname(__file__), "data", "grid_yolov8.onnx")
COLOURS = {"red": (0, 0, 255), "green": (0, 255, 0), "blue": (255, 0, 0)}


@pytest.fixture
def folder(tmp_path):
    """Three 64x64 frames with one or two squares each; the labels number the classes in
    another order than the model does (blue, red, green), as a user's data set may."""
    order = ["blue", "red", "green"]
    frames = [[("red", 2, 1)], [("green", 0, 0), ("blue", 5, 6)], [("red", 7, 7)]]
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "data.yaml").write_text("names: [%s]\n" % ", ".join(order))
    for n, squares in enumerate(frames):
        image = np.zeros((64, 64, 3), np.uint8)
        lines = []
        for colour, col, row in squares:
            image[row * 8 : row * 8 + 8, col * 8 : col * 8 + 8] = COLOURS[colour]
            lines.append(
                "%d %f %f 0.125 0.125" % (order.index(colour), (col + 0.5) / 8, (row + 0.5) / 8)
            )
        cv2.imwrite(str(tmp_path / "images" / ("%d.png" % n)), image)
        (tmp_path / "labels" / ("%d.txt" % n)).write_text("\n".join(lines) + "\n")
    return str(tmp_path)


def test_eval_on_a_folder_finds_everything(folder, capsys):
    argv = ["detect", "eval", "--model", YOLO, "--data", folder, "--backend", "opencv", "--json"]
    assert cli.main(argv) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["images"] == 3 and figures["source"] == {"data": folder}
    assert (figures["map50"], figures["map50_95"]) == (1.0, 1.0)
    assert figures["recall_fully_visible"] == 1.0 and figures["fully_visible"] == 4
    classes = figures["classes"]
    assert [classes[c]["ground_truth"] for c in ("red", "green", "blue")] == [2, 1, 1]
    assert all(c["precision"] == 1.0 and c["recall"] == 1.0 for c in classes.values())
    speed = figures["speed"]
    assert speed["fps"] > 0 and speed["backend"].startswith("opencv")
    assert set(speed["ms_median"]) == {"pre", "infer", "post"}


def test_eval_table_for_people(folder, capsys):
    assert (
        cli.main(["detect", "eval", "--model", YOLO, "--data", folder, "--backend", "opencv"]) == 0
    )
    out = capsys.readouterr().out
    assert "mAP@0.5 1.0   mAP@0.5:0.95 1.0" in out
    assert "frames/s single stream" in out


def test_eval_refuses_frames_of_classes_the_model_lacks(tmp_path, capsys):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "data.yaml").write_text("names: [red, purple]\n")
    cv2.imwrite(str(tmp_path / "images" / "0.png"), np.zeros((64, 64, 3), np.uint8))
    argv = ["detect", "eval", "--model", YOLO, "--data", str(tmp_path), "--backend", "opencv"]
    assert cli.main(argv) == 2
    assert "the model knows no class purple of the frames" in capsys.readouterr().err


def test_eval_needs_one_source(capsys):
    with pytest.raises(SystemExit):
        cli.main(["detect", "eval", "--model", YOLO])
    assert "one of the arguments --sim-seed --data is required" in capsys.readouterr().err
