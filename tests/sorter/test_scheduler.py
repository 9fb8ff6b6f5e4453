"""Scheduler logic on synthetic tracks: windows, neighbours, coverage, beams, speed changes."""

import numpy as np
import pytest

from apps.sorter.msgs import Tracks
from apps.sorter.scheduler import (
    CANCELLED,
    NEIGHBOUR,
    REJECT_CLASS,
    UNDECIDED,
    UNOBSERVED,
    Debouncer,
    Geometry,
    Scheduler,
)

GEOMETRY = Geometry(
    diverters=[450, 600, 750], beams=[380, 530, 680], reach=60, view_end=286.7, slew_s=0.12
)
BINS = {"nut": 0, "washer": 1, "bolt": 2}
NAMES = ["nut", "washer", "bolt", "bracket"]
V = 100.0  # mm/s
S = 1_000_000_000


def tracks(t, position, items, seen=None):
    """items: [(id, belt_mm, class id)] 30 mm long, 10 frames, confidence 1."""
    n = len(items)
    if seen is None:
        seen = (20.0 - position, 286.7 - position)
    return Tracks(
        stamp=t,
        ids=np.array([i for i, _, _ in items], np.int64),
        class_ids=np.array([c for _, _, c in items], np.int32),
        confidence=np.ones(n, np.float32),
        belt_mm=np.array([b for _, b, _ in items], np.float64),
        lateral_mm=np.zeros(n, np.float32),
        length_mm=np.full(n, 30.0, np.float32),
        frames=np.full(n, 10, np.int32),
        class_names=NAMES,
        seen_from=seen[0],
        seen_to=seen[1],
    )


def run(scheduler, items, until_s=8.0, speed=V, seen=True, beams=False):
    """Feed frames at 30 fps and belt states at 50 Hz; returns the commands sent."""
    commands, position, t = [], 0.0, 0.0
    for k in range(int(until_s * 150)):  # 150 Hz steps
        t = k / 150
        position = _travel(speed, t) if callable(speed) else speed * t
        v = speed(t) if callable(speed) else speed
        now = round(t * S)
        if k % 3 == 0:
            commands += scheduler.belt(now, position, v)
        if k % 5 == 0:
            visible = [i for i in items if 20 < i[1] + position < 287 - 15]
            msg = tracks(now, position, visible, None if seen else (0.0, -1.0))
            commands += scheduler.tracks(now, position, v, msg)
        if beams:
            for beam, xb in enumerate(GEOMETRY.beams):
                for item in items:
                    front = item[1] + 15 + position
                    if xb <= front < xb + v / 150:
                        commands += scheduler.beam_break(beam, position - (front - xb))
    return commands


def _travel(speed, t, dt=1 / 150):
    return sum(speed(k * dt) * dt for k in range(round(t / dt)))


def test_an_item_gets_a_window_that_has_the_paddle_out_on_its_arrival():
    s = Scheduler(GEOMETRY, BINS, margin_s=0.02, margin_mm=0.0)
    commands = run(s, [(1, 0.0, 1)])  # a washer: diverter 1
    assert len(commands) == 1
    c = commands[0]
    arrive = (600 - 30 - 15 - 0.0) / V  # front at the zone's start
    assert c.diverter == 1 and c.item_id == 1
    assert c.extend_at / S == pytest.approx(arrive - 0.02 - 0.12, abs=0.002)
    assert c.retract_at / S == pytest.approx(arrive + 0.02, abs=0.002)
    assert s.decisions[-1].target == 1


def test_classes_not_in_the_bins_and_undecided_items_go_to_reject():
    s = Scheduler(GEOMETRY, BINS)
    assert run(s, [(1, 0.0, 3), (2, -200.0, -1)]) == []
    assert [d.reason for d in s.decisions] == [REJECT_CLASS, UNDECIDED]


def test_an_item_too_close_behind_one_that_passes_the_paddle_goes_to_reject():
    # item 1 (bolt, diverter 2) passes diverter 0 while item 2 (nut) would need it out
    close = Scheduler(GEOMETRY, BINS)
    commands = run(close, [(1, 0.0, 2), (2, -90.0, 0)])  # gap 60 mm < 60 + travel
    assert [c.item_id for c in commands] == [1]
    assert {d.item_id: d.reason for d in close.decisions}[2] == NEIGHBOUR
    far = Scheduler(GEOMETRY, BINS)
    assert sorted(c.item_id for c in run(far, [(1, 0.0, 2), (2, -140.0, 0)])) == [1, 2]


def test_two_items_for_one_paddle_share_its_window():
    s = Scheduler(GEOMETRY, BINS)  # at 250 mm/s, 15 mm apart: no time to retract between
    commands = sorted(run(s, [(1, 0.0, 0), (2, -45.0, 0)], speed=250.0), key=lambda c: c.item_id)
    assert [c.item_id for c in commands] == [1, 2]
    assert commands[1].extend_at <= commands[0].retract_at  # the paddle stays out between


def test_unobserved_belt_around_an_item_sends_it_to_reject():
    s = Scheduler(GEOMETRY, BINS)
    assert run(s, [(1, 0.0, 1)], seen=False) == []
    assert s.decisions[-1].reason == UNOBSERVED


def test_an_unseen_item_found_by_a_beam_cancels_a_plan_it_would_collide_with():
    s = Scheduler(GEOMETRY, BINS)
    commands = []

    def step(k, beam=False):
        t = k / 50
        now, position = round(t * S), V * t
        commands.extend(s.belt(now, position, V))
        visible = [(1, -60.0, 2)] if -60 + position < 270 else []
        if k % 2 == 0:
            commands.extend(s.tracks(now, position, V, tracks(now, position, visible)))

    for k in range(168):  # to 3.35 s
        step(k)
    assert s.items[1].plan is not None and not s.items[1].sent  # bolt: diverter 2, later
    # an item nobody saw breaks beam 0 with its rear 30 mm ahead of item 1's front: item 1's
    # paddle would have to extend while it is still beside
    commands.extend(s.beam_break(0, 335.0))
    for k in range(168, 500):
        step(k)
    assert s.unseen == 1
    assert commands == []
    assert s.decisions[-1][:4] == (1, "bolt", None, CANCELLED)


def test_a_beam_break_corrects_the_items_position():
    s = Scheduler(GEOMETRY, BINS)
    run(s, [(1, 0.0, 2)], until_s=3.0)
    item = s.items[1]
    before = item.belt_mm
    s.beam_break(0, 380 - 15 - before + 3.0)  # broke the beam 3 mm of travel late
    assert item.belt_mm == pytest.approx(before - 3.0)
    assert 0 in item.beams


def test_a_speed_change_moves_the_window_before_it_is_sent():
    def speed(t):
        return V if t < 3.5 else 1.25 * V

    s = Scheduler(GEOMETRY, BINS, margin_mm=0.0)
    (c,) = run(s, [(1, 0.0, 2)], speed=speed)
    # front at the zone of diverter 2 (x = 720 - 15 = 705 mm of travel)
    travel_at_35 = _travel(speed, 3.5)
    arrive = 3.5 + (705 - travel_at_35) / (1.25 * V)
    assert c.retract_at / S == pytest.approx(arrive + 0.02, abs=0.01)


def test_debouncer_takes_one_break_and_one_clear_per_item_despite_bounces():
    d = Debouncer(hold_s=0.003)
    ms = 1_000_000
    edges = [
        (0, 100 * ms),  # break
        (1, 100 * ms + ms // 2),  # bounce: clear...
        (0, 101 * ms),  # ...and broken again
        (1, 400 * ms),  # the rear leaves
        (0, 400 * ms + ms // 2),  # bounce
        (1, 401 * ms),
        (0, 700 * ms),  # the next item
    ]
    events = [d.edge(0, level, t) for level, t in edges]
    assert events == ["break", None, None, "clear", None, None, "break"]


def test_a_beam_clear_measures_the_item_length():
    s = Scheduler(GEOMETRY, BINS)
    run(s, [(1, 0.0, 2)], until_s=3.0)
    item = s.items[1]
    s.beam_break(0, 380 - 15 - item.belt_mm)
    s.beam_clear(0, 380 - 15 - item.belt_mm + 50.0)  # 50 mm long, not the camera's 30
    assert item.length_mm == pytest.approx(50.0)
    assert item.belt_mm + item.half == pytest.approx(15.0)  # the front stays where it broke
