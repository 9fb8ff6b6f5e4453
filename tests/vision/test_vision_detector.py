"""Detector: card + backend + pre/post on real ONNX models, through ONNX Runtime and OpenCV.

The grid models (make_models.py) find a saturated colour square covering one 8x8 cell of
their 64x64 input and report exactly that cell's box, so the boxes expected in the frame are
known: the cell mapped back through the letterbox (or plain resize)."""

import os

import numpy as np
import pytest

pytest.importorskip("cv2")

from nanobot import msgs
from nanobot.vision import Detector, ModelCard, backends, onnxinfo
from nanobot.vision.card import CardError
from nanobot.vision.labels import from_metadata

DATA = os.path.join(os.path.dirname(__file__), "data")
HAVE_ORT = backends.availability()["onnxruntime"][0]
BACKENDS = ["opencv"] + (["onnxruntime"] if HAVE_ORT else [])
RED, GREEN = (0, 0, 255), (0, 255, 0)  # BGR


def path(name):
    return os.path.join(DATA, name)


def scene(letterboxed=True):
    """A 128x96 black frame with a red and a green square, each landing on one cell.

    Letterbox 128x96 -> 64x64: scale 0.5, 8 px of padding above; plain resize: 0.5 x 2/3.
    Returns the frame and the boxes expected (red first)."""
    frame = np.zeros((96, 128, 3), np.uint8)
    if letterboxed:
        red, green = (32, 16, 48, 32), (80, 32, 96, 48)  # input cells (2, 2) and (5, 3)
    else:
        red, green = (32, 24, 48, 36), (80, 36, 96, 48)
    for (x1, y1, x2, y2), color in ((red, RED), (green, GREEN)):
        frame[y1:y2, x1:x2] = color
    return frame, np.array([red, green], np.float32)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "model", ["grid_yolov8.onnx", "grid_yolov5.card.yaml", "grid_ssd.card.yaml"]
)
def test_known_boxes_come_back_in_frame_pixels(model, backend):
    with Detector.from_card(path(model), backend=backend) as detector:
        frame, expected = scene(letterboxed=detector.resize == "letterbox")
        found = detector.detect(frame)
    assert isinstance(found, msgs.Detections)
    assert found.class_names == ["red", "green", "blue"]
    assert [found.label(i) for i in range(len(found))] == ["red", "green"]
    np.testing.assert_allclose(found.boxes, expected, atol=1e-3)
    assert found.boxes.dtype == np.float32 and found.class_ids.dtype == np.int32
    assert (found.scores > 0.9).all()
    assert (found.image_width, found.image_height) == (128, 96)
    assert set(detector.timing) == {"pre", "infer", "post"}


@pytest.mark.skipif(
    not HAVE_ORT, reason="onnxruntime is not installed (OpenCV carries the other tests)"
)
@pytest.mark.parametrize(
    "model", ["grid_yolov8.onnx", "grid_yolov5.card.yaml", "grid_ssd.card.yaml"]
)
def test_onnxruntime_and_opencv_agree(model):
    rng = np.random.RandomState(3)
    frames = [rng.randint(0, 256, (96, 128, 3)).astype(np.uint8) for _ in range(3)]
    frames.append(scene()[0])
    ort = backends.load(path(model.replace(".card.yaml", ".onnx")), "onnxruntime")
    cv = backends.load(path(model.replace(".card.yaml", ".onnx")), "opencv")
    x = rng.rand(1, 3, 64, 64).astype(np.float32)
    name = ort.inputs[0].name
    for key, value in ort.infer({name: x}).items():
        np.testing.assert_allclose(cv.infer({name: x})[key], value, atol=1e-5)
    with Detector.from_card(path(model), "onnxruntime", conf=0.01) as a, Detector.from_card(
        path(model), "opencv", conf=0.01
    ) as b:
        for frame in frames:
            da, db = a.detect(frame), b.detect(frame)
            assert len(da) > 0 and da.class_ids.tolist() == db.class_ids.tolist()
            np.testing.assert_allclose(da.boxes, db.boxes, atol=1e-3)
            np.testing.assert_allclose(da.scores, db.scores, atol=1e-4)


def test_onnxruntime_threads_stop_spinning_between_inferences():
    from nanobot.vision.backends.ort import spin_settings

    assert spin_settings("1.31.1") == {"session.force_spinning_stop": "1"}
    assert spin_settings("1.12.0") == {"session.force_spinning_stop": "1"}
    assert spin_settings("1.10.0") == {"session.intra_op.allow_spinning": "0"}  # Python 3.6's
    assert spin_settings("1.31.1", idle_spin=True) == {}
    if not HAVE_ORT:
        return
    with backends.load(path("grid_yolov8.onnx"), "onnxruntime") as quiet:
        options = quiet.session.get_session_options()
        for key, value in spin_settings(quiet.version).items():
            assert options.get_session_config_entry(key) == value
    # (Reading back an entry that was never set crashed ONNX Runtime 1.31 in CI: not asked.)
    with backends.load(path("grid_yolov8.onnx"), "onnxruntime", idle_spin=True, threads=1) as b:
        assert b.session.get_session_options().intra_op_num_threads == 1


def test_threads_cap_the_cpu_backends_and_tensorrt_ignores_them(monkeypatch):
    import cv2

    from nanobot.nodes.detector import DetectorNode

    before = cv2.getNumThreads()
    try:
        params = {"model": path("grid_yolov8.onnx"), "backend": "opencv", "threads": 1}
        with DetectorNode("d", params).make_detector():
            assert cv2.getNumThreads() == 1  # OpenCV's count is the process's
    finally:
        cv2.setNumThreads(before)
    if HAVE_ORT:
        with Detector.from_card(path("grid_yolov8.onnx"), "onnxruntime", threads=1) as d:
            assert d.backend.session.get_session_options().intra_op_num_threads == 1
    made = []
    monkeypatch.setattr(backends._tensorrt, "TensorRTBackend", lambda *a, **kw: made.append(kw))
    backends.load(path("grid_yolov8.onnx"), "tensorrt", threads=2)
    assert made and "threads" not in made[0]


def test_thresholds_come_from_arguments_then_card_then_family(tmp_path):
    card = tmp_path / "m.card.yaml"
    card.write_text("model: %s\nconf: 0.6\n" % path("grid_yolov8.onnx"))
    with Detector.from_card(str(card), "opencv") as d:
        assert (d.conf, d.iou) == (0.6, 0.7)  # card, family
    with Detector.from_card(str(card), "opencv", conf=0.1, iou=0.3) as d:
        assert (d.conf, d.iou) == (0.1, 0.3)
        found = d.detect(np.full((64, 64, 3), 114, np.uint8))  # grey scores ~0.12
        assert len(found) > 0
    with Detector.from_card(path("grid_ssd.card.yaml"), "opencv") as d:
        assert (d.conf, d.iou, d.resize) == (0.5, 0.45, "plain")
        assert len(d.detect(np.full((64, 64, 3), 114, np.uint8))) == 0


def test_max_detections_caps_the_result(tmp_path):
    card = tmp_path / "m.card.yaml"
    card.write_text("model: %s\nconf: 0.05\nmax_detections: 5\n" % path("grid_yolov8.onnx"))
    with Detector.from_card(str(card), "opencv") as d:
        found = d.detect(np.full((64, 64, 3), 114, np.uint8))
    assert len(found) == 5


def test_a_model_card_is_found_next_to_its_model():
    card = ModelCard.for_model(path("grid_ssd.onnx"))
    assert card.family.name == "ssd" and card.labels[0] == "BACKGROUND"
    assert ModelCard.for_model(path("grid_yolov8.onnx")).family is None  # no card: guessed


@pytest.mark.parametrize(
    "text, message",
    [
        ("family: yolov8\n", "must name its model file"),
        ("model: x.onnx\ncolour: red\n", "unknown keys colour; known: model, family"),
        ("model: x.onnx\ninput_size: [640]\n", r"input_size in .* must be \[height, width\]"),
        ("model: x.onnx\nresize: crop\n", "resize in .* must be letterbox or plain"),
        ("model: x.onnx\nconf: 2\n", r"conf in .* must be within 0..1"),
        ("model: x.onnx\nnormalize: imagenet\n", "normalize in .* must be yolo or ssd"),
        ("model: x.onnx\nnormalize: {mean: [1, 2]}\n", "needs mean and std of three numbers"),
        ("model: x.onnx\nfamily: yolox\n", "unknown model family 'yolox'"),
    ],
)
def test_bad_cards_are_one_clear_sentence(tmp_path, text, message):
    card = tmp_path / "bad.card.yaml"
    card.write_text(text)
    with pytest.raises((CardError, ValueError), match=message):
        ModelCard.load(str(card))


def test_card_normalisation_and_input_size(tmp_path):
    card = tmp_path / "c.card.yaml"
    card.write_text(
        "model: m.onnx\ninput_size: 320\nnormalize: {mean: [1, 2, 3], std: [4, 5, 6], rgb: false}\n"
    )
    c = ModelCard.load(str(card))
    assert c.input_size == (320, 320) and c.model == str(tmp_path / "m.onnx")
    assert c.normalization == ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0), False)


def test_labels_from_ultralytics_metadata():
    assert from_metadata({"names": "{0: 'person', 2: 'car', 1: 'bicycle'}"}) == [
        "person",
        "bicycle",
        "car",
    ]
    assert from_metadata({"names": "['a', 'b']"}) == ["a", "b"]
    assert from_metadata({"labels": "cat\ndog\n"}) == ["cat", "dog"]
    assert from_metadata({"stride": "32"}) is None


def test_onnxinfo_reads_inputs_outputs_and_metadata_without_onnx():
    info = onnxinfo.read(path("grid_ssd.onnx"))
    assert info.inputs == [("input_0", (1, 3, 64, 64), "float32")]
    assert info.outputs == [("scores", (1, 64, 4), "float32"), ("boxes", (1, 64, 4), "float32")]
    assert info.opset == 11 and info.producer == "nanobot-tests"
    dynamic = onnxinfo.read(path("grid_yolov8_dynamic.onnx"))
    assert dynamic.inputs[0].shape == (None, 3, 64, 64) and dynamic.inputs[0].is_dynamic
    assert dynamic.metadata["names"] == "{0: 'red', 1: 'green', 2: 'blue'}"


def test_onnxinfo_refuses_what_is_not_onnx(tmp_path):
    bad = tmp_path / "x.onnx"
    bad.write_bytes(b"\xff\xff\xff")
    with pytest.raises(onnxinfo.OnnxFormatError, match=r"x\.onnx is not an ONNX model"):
        onnxinfo.read(str(bad))
    with pytest.raises(
        backends.BackendError, match="unknown backend 'cuda'; choose auto, tensorrt"
    ):
        backends.load(path("grid_yolov8.onnx"), "cuda")


def test_onnxinfo_agrees_with_the_onnx_package():
    onnx = pytest.importorskip("onnx", reason="the onnx package is only needed for this check")
    for name in ("grid_yolov8", "grid_yolov8_dynamic", "grid_yolov5", "grid_ssd"):
        model = onnx.load(path(name + ".onnx"))
        info = onnxinfo.read(path(name + ".onnx"))
        assert [t.name for t in info.inputs] == [i.name for i in model.graph.input]
        assert [t.name for t in info.outputs] == [o.name for o in model.graph.output]
        assert info.metadata == {p.key: p.value for p in model.metadata_props}
