"""Tracker logic on synthetic detections: belt coordinates, association, votes, cut boxes,
frozen frames, speed changes."""

import numpy as np
import pytest

from apps.sorter.tracker import Calibration, Tracker

CAL = Calibration(width=640, height=480, px_per_mm=2.4, x0=20.0, y0=-100.0)
MS = 1_000_000


def box(x_mm, y_mm, length=30.0, cal=CAL):
    """A pixel box of an item centred at belt (x, y) mm."""
    u, v = (x_mm - cal.x0) * cal.px_per_mm, (y_mm - cal.y0) * cal.px_per_mm
    half = length / 2 * cal.px_per_mm
    return [max(0.0, u - half), v - half, min(cal.width, u + half), v + half]


def frame(tracker, t_s, position, items):
    """items: [(belt x at position 0, y, class id)]; returns the frame's seen stretch."""
    boxes = [box(b + position, y) for b, y, _ in items]
    ids = [c for _, _, c in items]
    return tracker.update(round(t_s * 1e9), position, boxes, np.full(len(items), 0.9), ids)


def test_items_keep_one_track_each_while_the_belt_moves_at_changing_speed():
    tracker = Tracker(CAL, ["nut", "washer"])
    items = [(100.0, -30.0, 0), (40.0, 30.0, 1)]  # belt coords: x at position 0
    position, speeds = 0.0, [50.0] * 20 + [200.0] * 20  # mm/s, one frame each 1/30 s
    for k, speed in enumerate(speeds):
        frame(tracker, k / 30, position, [i for i in items if 50 < i[0] + position < 250])
        position += speed / 30
    msg = tracker.message(0)
    assert len(msg.ids) == 2
    assert msg.belt_mm.tolist() == pytest.approx([100.0, 40.0], abs=0.01)
    assert msg.class_ids.tolist() == [0, 1]
    assert msg.confidence.tolist() == [1.0, 1.0]


def test_crossing_lateral_paths_do_not_swap_tracks():
    """Two items side by side at the same x, at different y: each keeps its own track."""
    tracker = Tracker(CAL, ["nut", "washer"])
    for k in range(10):
        frame(tracker, k / 30, 4.0 * k, [(100.0, -20.0, 0), (100.0, 20.0, 1)])
    msg = tracker.message(0)
    assert sorted(zip(msg.lateral_mm.round(1).tolist(), msg.class_ids.tolist())) == [
        (-20.0, 0),
        (20.0, 1),
    ]


def test_class_is_undecided_until_min_frames_and_the_vote_is_weighted_by_score():
    tracker = Tracker(CAL, ["nut", "washer"], min_frames=3)
    scores_ids = [(0.9, 0), (0.9, 0), (0.3, 1), (0.9, 0)]
    for k, (score, cid) in enumerate(scores_ids[:2]):
        tracker.update(k * 33 * MS, 4.0 * k, [box(100 + 4.0 * k, 0)], [score], [cid])
    assert tracker.message(0).class_ids.tolist() == [-1]
    for k, (score, cid) in enumerate(scores_ids[2:], start=2):
        tracker.update(k * 33 * MS, 4.0 * k, [box(100 + 4.0 * k, 0)], [score], [cid])
    msg = tracker.message(0)
    assert msg.class_ids.tolist() == [0]
    assert msg.confidence[0] == pytest.approx(2.7 / 3.0, abs=1e-6)


def test_a_box_cut_by_the_frame_edge_starts_no_track_and_does_not_move_one():
    tracker = Tracker(CAL, ["nut"])
    # entering at the left edge: cut, no track yet
    frame(tracker, 0.0, 0.0, [(22.0, 0.0, 0)])
    assert len(tracker.tracks) == 0
    for k in range(1, 6):  # whole views, then it leaves by the right edge
        frame(tracker, k / 30, 30.0 * k, [(22.0, 0.0, 0)])
    track = tracker.tracks[0]
    assert track.belt_mm == pytest.approx(22.0, abs=0.01)
    x_right = CAL.view[1]
    position = x_right - 22.0  # centre at the right edge: half the item is cut away
    frame(tracker, 0.5, position, [(22.0, 0.0, 0)])
    assert len(tracker.tracks) == 1
    assert (tracker.tracks[0].frames, tracker.tracks[0].sightings) == (5, 6)  # matched, no vote
    assert tracker.tracks[0].belt_mm == pytest.approx(22.0, abs=0.01)


def test_a_frozen_frame_is_discarded():
    tracker = Tracker(CAL, ["nut"])
    boxes, scores = [box(100, 0)], [0.9]
    assert tracker.update(0, 0.0, boxes, scores, [0]) is not None
    assert tracker.update(33 * MS, 4.7, boxes, scores, [0]) is None  # same pixels, belt moved
    assert tracker.frozen_frames == 1
    assert len(tracker.tracks) == 1 and tracker.tracks[0].frames == 1


def test_seen_stretch_is_the_view_in_belt_coordinates():
    tracker = Tracker(CAL, ["nut"], edge_px=0.0)
    seen = tracker.update(0, 50.0, [], [], [])
    assert seen == pytest.approx((20.0 - 50.0, 20.0 + 640 / 2.4 - 50.0))
    msg = tracker.message(0, seen)
    assert (msg.seen_from, msg.seen_to) == pytest.approx(seen)


def test_a_second_box_on_a_tracked_item_votes_but_starts_no_track():
    """The detector's duplicate (another class, slightly offset) on one item, from its first
    frame on: one track, whose vote holds both opinions."""
    tracker = Tracker(CAL, ["nut", "washer"], min_frames=3)
    for k in range(4):
        p = 4.0 * k
        boxes = [box(100 + p, 0), box(101 + p, 1)]
        tracker.update(k * 33 * MS, p, boxes, [0.9, 0.3], [0, 1])
    msg = tracker.message(0)
    assert len(msg.ids) == 1
    assert msg.belt_mm.tolist() == pytest.approx([100.0], abs=0.01)
    assert msg.confidence.tolist() == pytest.approx([0.75])  # 3.6 / (3.6 + 1.2)


def test_touching_items_keep_a_track_each():
    tracker = Tracker(CAL, ["nut"])
    for k in range(4):
        frame(tracker, k / 30, 4.0 * k, [(100.0, 0.0, 0), (76.0, 0.0, 0)])  # 24 mm apart
    assert len(tracker.message(0).ids) == 2
