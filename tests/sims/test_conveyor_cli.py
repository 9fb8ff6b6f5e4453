"""The clip CLI (python -m sims.conveyor) and the data set exporter, run in-process, small."""

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from sims.conveyor import World
from sims.conveyor.__main__ import main as clip_main
from sims.conveyor.export import export, yolo_lines
from sims.conveyor.export import main as export_main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_clip_has_camera_and_overview_side_by_side(tmp_path, capsys):
    assert clip_main(["--seed", "1", "--seconds", "0.5", "--out", str(tmp_path)]) == 0
    video = cv2.VideoCapture(str(tmp_path / "conveyor.avi"))
    frames = []
    ok, frame = video.read()
    while ok:
        frames.append(frame)
        ok, frame = video.read()
    assert len(frames) == 15 and frames[0].shape == (480, 1280, 3)
    out = capsys.readouterr().out
    assert "15 frames (0.5 s, seed 1)" in out and "class\\bin" in out
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["classes"] == ["nut", "washer", "bolt", "bracket", "distractor"]


def test_clip_rejects_unknown_faults(tmp_path, capsys):
    assert clip_main(["--out", str(tmp_path), "--faults", "gremlins=1"]) == 2
    assert "gremlins" in capsys.readouterr().err


def test_clip_cli_runs_as_a_module(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "sims.conveyor", "--seconds", "0.2", "--out", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        universal_newlines=True,
        check=True,
    )
    assert "6 frames" in done.stdout


def test_yolo_export(tmp_path):
    assert (
        export_main(
            [
                "--seed",
                "2",
                "--frames",
                "6",
                "--out",
                str(tmp_path),
                "--format",
                "yolo",
                "--ext",
                "png",
            ]
        )
        == 0
    )
    images = sorted(os.listdir(tmp_path / "images"))
    labels = sorted(os.listdir(tmp_path / "labels"))
    assert len(images) == len(labels) == 6
    assert (
        "names:\n  0: nut\n  1: washer\n  2: bolt\n  3: bracket\n"
        in (tmp_path / "data.yaml").read_text()
    )
    rows = (tmp_path / "boxes.csv").read_text().splitlines()
    lines = [
        line for name in labels for line in (tmp_path / "labels" / name).read_text().splitlines()
    ]
    assert lines and len(rows) - 1 == len(lines)
    for line in lines:
        cls, *numbers = line.split()
        assert int(cls) in range(4) and all(0.0 <= float(n) <= 1.0 for n in numbers)


def test_yolo_lines_are_normalised_centres_and_sizes():
    from sims.conveyor import Box

    assert yolo_lines([Box(7, "bolt", 0, 24, 64, 72, 0.5)], 640, 480) == [
        "2 0.050000 0.100000 0.100000 0.100000"
    ]


def test_coco_export_matches_the_rendered_boxes(tmp_path):
    world = World(seed=3)
    export(world, 4, str(tmp_path), "coco", every=0.5, ext="png")
    coco = json.loads((tmp_path / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["nut", "washer", "bolt", "bracket"]
    assert len(coco["images"]) == 4 and coco["annotations"]
    last = max(i["id"] for i in coco["images"])
    boxes = [a for a in coco["annotations"] if a["image_id"] == last]
    assert sorted((a["item_id"], a["bbox"]) for a in boxes) == sorted(
        (b.item_id, [b.x0, b.y0, b.x1 - b.x0, b.y1 - b.y0]) for b in world.camera.boxes()
    )
    image = cv2.imread(str(tmp_path / coco["images"][-1]["file_name"]))
    assert image.shape == (480, 640, 3)
    for a in coco["annotations"]:
        assert (
            a["truncated"] == (a["visibility"] < 1.0) and a["area"] == a["bbox"][2] * a["bbox"][3]
        )


def test_export_rejects_an_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'voc'"):
        export(World(seed=1), 1, str(tmp_path), "voc")


def test_overview_shows_the_cell():
    world = World(seed=1)
    world.set_motor(0.6, 1)
    world.step(3.0)
    image = world.overview()
    assert image.shape == (480, 640, 3) and image.dtype == np.uint8
    assert (image != 245).any(axis=2).mean() > 0.1


def test_the_docs_picture_is_what_the_code_renders(tmp_path):
    committed = cv2.imread(os.path.join(ROOT, "docs", "img", "sims-conveyor.png"))
    path = str(tmp_path / "picture.png")
    args = ["--seed", "1", "--seconds", "9", "--out", str(tmp_path), "--picture", path]
    assert clip_main(args) == 0
    fresh = cv2.imread(path)
    assert fresh.shape == committed.shape == (480, 1280, 3)
    # Equal up to OpenCV versions' text antialiasing; regenerate with the command in sims.md.
    assert np.abs(fresh.astype(int) - committed.astype(int)).mean() < 1.0
