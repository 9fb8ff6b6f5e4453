"""Decoders of the three output layouts, family guessing, and class-aware NMS."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nanobot.vision import families
from nanobot.vision.decoders import decode_ssd, decode_yolov5, decode_yolov8
from nanobot.vision.nms import box_iou, nms


def test_yolov8_layout_columns_are_candidates():
    out = np.zeros((1, 4 + 2, 3), np.float32)
    out[0, :, 0] = [50, 40, 20, 10, 0.9, 0.1]  # class 0
    out[0, :, 1] = [10, 10, 4, 4, 0.2, 0.6]  # class 1
    out[0, :, 2] = [0, 0, 1, 1, 0.1, 0.2]  # below conf
    boxes, scores, ids = decode_yolov8({"output0": out}, 0.25, (64, 64))
    np.testing.assert_allclose(boxes, [[40, 35, 60, 45], [8, 8, 12, 12]])
    np.testing.assert_allclose(scores, [0.9, 0.6])
    assert ids.tolist() == [0, 1]


def test_yolov5_layout_multiplies_objectness_by_class_score():
    out = np.zeros((1, 3, 5 + 2), np.float32)
    out[0, 0] = [50, 40, 20, 10, 0.8, 0.5, 0.9]  # 0.72, class 1
    out[0, 1] = [10, 10, 4, 4, 0.2, 0.9, 0.0]  # objectness below conf
    out[0, 2] = [30, 30, 2, 2, 0.5, 0.4, 0.1]  # 0.2 after multiplying: below conf
    boxes, scores, ids = decode_yolov5({"output0": out}, 0.25, (64, 64))
    np.testing.assert_allclose(boxes, [[40, 35, 60, 45]])
    np.testing.assert_allclose(scores, [0.72])
    assert ids.tolist() == [1]


def test_ssd_layout_drops_the_background_and_scales_boxes():
    scores = np.array([[[0.9, 0.05, 0.05], [0.1, 0.2, 0.7], [0.3, 0.6, 0.1]]], np.float32)
    boxes = np.array([[[0, 0, 1, 1], [0.5, 0.25, 1, 0.5], [0, 0, 0.5, 0.5]]], np.float32)
    b, s, i = decode_ssd({"boxes": boxes, "scores": scores}, 0.5, (300, 400))
    np.testing.assert_allclose(b, [[200, 75, 400, 150], [0, 0, 200, 150]])
    np.testing.assert_allclose(s, [0.7, 0.6])
    assert i.tolist() == [1, 0]  # ids without the background: 0 is the first real class
    unnamed = decode_ssd({"a": scores, "b": boxes}, 0.5, (300, 400))  # found by shape
    np.testing.assert_array_equal(unnamed[0], b)


def test_decoders_refuse_other_layouts_in_one_sentence():
    with pytest.raises(ValueError, match="a YOLOv8 model has one output, this one has 2"):
        decode_yolov8({"a": np.zeros((1, 6, 3)), "b": np.zeros((1, 6, 3))}, 0.2, (1, 1))
    with pytest.raises(ValueError, match=r"SSD outputs must be scores \[1, N, C\] and boxes"):
        decode_ssd({"scores": np.zeros((1, 5, 3)), "boxes": np.zeros((1, 4, 4))}, 0.2, (1, 1))


@pytest.mark.parametrize(
    "outputs, family",
    [
        ([("output0", (1, 84, 8400))], "yolov8"),
        ([("output0", (1, 25200, 85))], "yolov5"),
        ([("scores", (1, 3000, 21)), ("boxes", (1, 3000, 4))], "ssd"),
        ([("a", (1, 3000, 4)), ("b", (1, 3000, 21))], "ssd"),
        ([("output0", (None, 84, None))], None),
    ],
)
def test_family_is_guessed_from_output_shapes(outputs, family):
    guessed = families.guess(outputs)
    assert (guessed.name if guessed else None) == family


def test_unknown_layout_says_to_set_the_family_in_the_card():
    with pytest.raises(
        ValueError, match=r"outputs logits \[1, 1000\].*set `family` in the model card"
    ):
        families.guess([("logits", (1, 1000))])
    assert families.get("YOLO11") is families.FAMILIES["yolov8"]
    assert (families.get("yolov5").conf, families.get("yolov5").iou) == (0.25, 0.45)
    assert families.get("yolov8").iou == 0.7 and families.get("ssd").iou == 0.45
    with pytest.raises(ValueError, match="unknown model family 'yolox'"):
        families.get("yolox")


def test_nms_keeps_the_best_of_overlapping_boxes_per_class():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.8, 0.9, 0.7, 0.5], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [1, 3]
    assert nms(boxes, scores, 0.5, class_ids=[0, 0, 1, 0]).tolist() == [1, 2, 3]
    assert nms(boxes, scores, 0.5, class_ids=[0, 0, 1, 0], max_detections=2).tolist() == [1, 2]
    assert nms(boxes, scores, 0.99).tolist() == [1, 0, 3]  # 2 is a copy of 0: IoU 1
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).tolist() == []


def _reference_nms(boxes, scores, iou, ids):
    keep = []
    for i in sorted(range(len(boxes)), key=lambda k: (-scores[k], k)):
        if all(ids[i] != ids[k] or box_iou(boxes[k], boxes[i : i + 1])[0] <= iou for k in keep):
            keep.append(i)
    return keep


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 40), st.integers(0, 2**31 - 1), st.floats(0.1, 0.9))
def test_nms_equals_the_plain_greedy_algorithm(n, seed, iou):
    rng = np.random.RandomState(seed)
    xy = rng.uniform(-20, 100, (n, 2))
    boxes = np.hstack([xy, xy + rng.uniform(1, 40, (n, 2))]).astype(np.float32)
    scores = rng.permutation(n).astype(np.float32) / max(n, 1)  # distinct scores
    ids = rng.randint(0, 3, n)
    assert nms(boxes, scores, iou, ids).tolist() == _reference_nms(boxes, scores, iou, ids)
