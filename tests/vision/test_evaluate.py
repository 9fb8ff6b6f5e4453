"""Evaluation math on hand-made cases whose answers are worked out by hand."""

import numpy as np
import pytest

from nanobot.msgs import Detections
from nanobot.vision.evaluate import Evaluation, average_precision, iou_matrix, match


def dets(boxes, scores, ids):
    return Detections(
        boxes=np.array(boxes, np.float32).reshape(-1, 4),
        scores=np.array(scores, np.float32),
        class_ids=np.array(ids, np.int32),
    )


def test_iou_of_known_boxes():
    a = [[0, 0, 10, 10]]
    b = [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 5]]
    assert iou_matrix(a, b)[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0, 0.5])


def test_ap_is_one_for_all_found_and_nothing_wrong():
    assert average_precision([0.9, 0.8], [True, True], 2) == 1.0


def test_ap_of_hit_miss_hit_is_the_101_point_area():
    # recall 0.5 at precision 1, then recall 1.0 at precision 2/3: 51 points at 1, 50 at 2/3
    ap = average_precision([0.9, 0.8, 0.7], [True, False, True], 2)
    assert ap == pytest.approx((51 + 50 * 2 / 3) / 101)


def test_ap_counts_objects_never_found():
    # one of two objects found, first: recall reaches 0.5 only -> 51 of 101 points
    assert average_precision([0.9], [True], 2) == pytest.approx(51 / 101)


def test_ap_without_detections_or_ground_truth():
    assert average_precision([], [], 3) == 0.0
    assert np.isnan(average_precision([0.5], [False], 0))


def test_ap_ranks_by_score_not_by_order_given():
    # the false positive scores highest: precision 0 at first, then 1/2 at recall 1
    assert average_precision([0.1, 0.9], [True, False], 1) == pytest.approx(0.5)


def test_match_takes_best_overlap_and_each_object_once():
    gt = [[0, 0, 10, 10], [100, 100, 110, 110]]
    boxes = [[1, 0, 11, 10], [0, 0, 10, 10], [100, 100, 110, 110]]
    state, matched = match(boxes, [0.9, 0.8, 0.7], gt, 0.5)
    # the best-scoring detection takes object 0; the duplicate is a false positive
    assert state.tolist() == [1, 0, 1]
    assert matched.tolist() == [True, True]


def test_match_below_threshold_is_false_positive():
    state, matched = match([[5, 0, 15, 10]], [0.9], [[0, 0, 10, 10]], 0.5)  # IoU 1/3
    assert state.tolist() == [0] and matched.tolist() == [False]


def test_detection_of_difficult_object_counts_neither_way():
    gt = [[0, 0, 10, 10]]
    state, _ = match([[0, 0, 10, 10]], [0.9], gt, 0.5, gt_ignore=[True])
    assert state.tolist() == [-1]
    ev = Evaluation(["a"], min_visibility=0.5)
    ev.add(dets([[0, 0, 10, 10]], [0.9], [0]), gt, [0], [0.3])
    s = ev.summary()
    assert s["classes"]["a"]["ground_truth"] == 0
    assert s["classes"]["a"]["detections"] == 0
    assert s["map50"] is None


def test_summary_per_class_and_iou_range():
    ev = Evaluation(["nut", "bolt"], conf=0.5)
    gt_boxes = [[0, 0, 10, 10], [50, 50, 60, 70], [80, 0, 90, 10]]
    gt_ids = [0, 1, 1]
    found = dets(
        [
            [0, 0, 10, 10],  # nut, exact
            [50, 50, 60, 60],  # bolt, IoU 0.5 with its object
            [200, 200, 210, 210],  # bolt, false positive (confident)
            [80, 0, 90, 10],  # bolt, exact but below the operating threshold
        ],
        [0.9, 0.8, 0.7, 0.3],
        [0, 1, 1, 1],
    )
    ev.add(found, gt_boxes, gt_ids, [1.0, 1.0, 0.6])
    s = ev.summary()
    nut, bolt = s["classes"]["nut"], s["classes"]["bolt"]
    assert nut["ap50"] == 1.0 and nut["ap50_95"] == 1.0
    assert (nut["precision"], nut["recall"]) == (1.0, 1.0)
    # bolt at IoU 0.5: hit (0.8), miss (0.7), hit (0.3) over 2 objects
    assert bolt["ap50"] == pytest.approx((51 + 50 * 2 / 3) / 101, abs=1e-4)
    # above IoU 0.5 the first hit is a miss: only the exact one at 0.3 scores: P 1/3 at R 1/2
    assert bolt["ap50_95"] == pytest.approx((bolt["ap50"] + 9 * (51 / 3) / 101) / 10, abs=1e-4)
    # at conf 0.5: two bolt detections, one right; two bolts, one found
    assert (bolt["precision"], bolt["recall"]) == (0.5, 0.5)
    # fully visible: the nut and the first bolt (the other is 60 % in view); both found
    assert bolt["fully_visible"] == 1 and bolt["recall_fully_visible"] == 1.0
    assert s["recall_fully_visible"] == 1.0 and s["fully_visible"] == 2
    assert s["map50"] == pytest.approx((1.0 + bolt["ap50"]) / 2, abs=1e-4)


def test_recall_on_fully_visible_counts_misses():
    ev = Evaluation(["a"], conf=0.25)
    ev.add(dets([], [], []), [[0, 0, 10, 10]], [0])
    ev.add(dets([[0, 0, 10, 10]], [0.9], [0]), [[0, 0, 10, 10]], [0])
    ev.add(dets([[0, 0, 10, 10]], [0.1], [0]), [[0, 0, 10, 10]], [0])  # below conf
    s = ev.summary()
    assert s["images"] == 3
    assert s["recall_fully_visible"] == pytest.approx(1 / 3, abs=1e-4)
    assert s["classes"]["a"]["recall"] == pytest.approx(1 / 3, abs=1e-4)
