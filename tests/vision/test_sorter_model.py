"""The sorter's shipped model: its card parses, ONNX Runtime and OpenCV DNN load it, and it
finds the items of freshly rendered conveyor frames (a seed never used in training) with the
right classes."""

import os

import numpy as np
import pytest

from nanobot.vision import Detector
from nanobot.vision.card import ModelCard
from nanobot.vision.cli_eval import sim_samples
from nanobot.vision.evaluate import Evaluation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CARD = os.path.join(ROOT, "apps", "sorter", "models", "sorter.card.yaml")
CLASSES = ["nut", "washer", "bolt", "bracket"]
SEED = 4242  # training used seeds 1..10; see apps/sorter/models/README.md


def backends():
    try:
        import onnxruntime  # noqa: F401

        ort = pytest.param("onnxruntime")
    except ImportError:
        ort = pytest.param("onnxruntime", marks=pytest.mark.skip(reason="onnxruntime absent"))
    return [ort, "opencv"]


@pytest.fixture(scope="module")
def frames():
    return [s for s, _ in sim_samples(SEED, 48, every=0.5)]  # a few items per class are too few


def test_card_parses_and_describes_the_model():
    card = ModelCard.load(CARD)
    assert card.family.name == "yolov8"
    assert card.input_size == (240, 320)
    assert card.labels == CLASSES
    assert card.resize == "letterbox" and card.conf == 0.25
    assert os.path.getsize(card.model) < 2 * 1024 * 1024  # 1.4 MB


def test_frames_hold_every_class(frames):
    ids = np.concatenate([s.class_ids for s in frames])
    assert sorted(set(ids.tolist())) == [0, 1, 2, 3]


@pytest.mark.parametrize("backend", backends())
def test_finds_every_item_with_its_class(backend, frames):
    with Detector.from_card(CARD, backend=backend) as detector:
        assert detector.class_names == CLASSES
        assert detector.input_size == (240, 320)
        # items less than a quarter in view are not required (docs/vision.md)
        ev = Evaluation(CLASSES, conf=detector.conf, min_visibility=0.25)
        for sample in frames:
            ev.add(detector.detect(sample.image), sample.boxes, sample.class_ids, sample.visibility)
    figures = ev.summary()
    for name in CLASSES:
        c = figures["classes"][name]
        assert c["recall_fully_visible"] >= 0.9, (name, c)
        assert c["precision"] >= 0.9, (name, c)
    assert figures["recall_fully_visible"] >= 0.95
    assert figures["map50"] >= 0.9


def test_eval_command_renders_sim_frames(capsys):
    import json

    from nanobot.vision import cli

    argv = ["detect", "eval", "--model", CARD, "--sim-seed", str(SEED), "--frames", "6"]
    assert cli.main([*argv, "--every", "0.5", "--backend", "opencv", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["source"] == {"sim_seed": SEED, "faults": "", "every": 0.5}
    assert figures["images"] == 6 and figures["fully_visible"] > 0
    assert figures["recall_fully_visible"] == 1.0
    assert figures["speed"]["input"] == [240, 320] and figures["speed"]["fps"] > 0
