"""sims.conveyor fault injection: each fault off by default, observable when on, seedable, and
independent of the others (turning one on leaves the item stream as it was)."""

import numpy as np
import pytest

from sims.conveyor import Cell, Faults, World


def camera_run(faults, frames=120, seed=1):
    world = World(seed=seed, faults=faults)
    world.set_motor(0.6, 1)
    out = []
    for _ in range(frames):
        world.step(1 / 30)
        out.append(world.render())
    return out


def repeats(frames):
    return sum(
        1
        for a, b in zip(frames, frames[1:])
        if a is not None and b is not None and np.array_equal(a, b)
    )


def test_a_perfect_camera_by_default():
    frames = camera_run(Faults())
    assert all(f is not None for f in frames) and repeats(frames) == 0


def test_frame_drops():
    dropped = sum(f is None for f in camera_run(Faults(frame_drop=0.3)))
    assert 15 < dropped < 60


def test_camera_freezes_repeat_frames():
    frames = camera_run(Faults(freeze=0.05, freeze_frames=(5, 5)))
    assert repeats(frames) >= 8


def test_belt_slip_makes_the_encoder_read_more_travel_than_the_belt_moved():
    world = World(seed=1, faults=Faults(belt_slip=0.2))
    world.set_motor(0.6, 1)
    world.step(5.0)
    assert world.belt.travel == pytest.approx(0.8 * world.belt.roller)
    clean = World(seed=1)
    clean.set_motor(0.6, 1)
    clean.step(5.0)
    assert clean.belt.travel == clean.belt.roller


def test_belt_drift_changes_speed_at_constant_duty():
    world = World(seed=1, faults=Faults(belt_drift=0.2, drift_period=4.0))
    world.set_motor(0.6, 1)
    speeds = []
    for _ in range(80):
        world.step(0.1)
        speeds.append(world.belt.speed)
    steady = speeds[20:]
    assert (max(steady) - min(steady)) / np.mean(steady) > 0.2


def beam_edges(faults):
    world = World(seed=2, faults=faults)
    world.set_motor(0.6, 1)
    return [e for e in world.step(12.0) if e.signal == "beam0"]


def test_noisy_beam_bounces():
    clean, noisy = beam_edges(Faults()), beam_edges(Faults(beam_bounce=1.0))
    assert clean and len(noisy) == 3 * len(clean)  # every edge comes with one bounce
    assert [e.level for e in noisy[:3]] == [0, 1, 0]
    assert noisy[2].t - noisy[0].t < 0.004


def test_touching_items_enter_with_no_gap():
    world = World(seed=3, faults=Faults(touching=1.0))
    world.set_motor(0.6, 1)
    world.step(6.0)
    items = sorted(world.items, key=lambda i: -i.x)
    gaps = [a.rear - b.front for a, b in zip(items, items[1:])]
    assert gaps and max(np.abs(gaps)) < 1e-6


def test_distractors_are_objects_of_no_class_and_never_labelled():
    world = World(seed=4, faults=Faults(distractors=1.0))
    world.set_motor(0.6, 1)
    seen = []
    for _ in range(90):
        world.step(1 / 30)
        world.render()
        seen.extend(world.camera.boxes(classes_only=False))
        assert world.camera.boxes() == []
    assert seen and {b.cls for b in seen} == {"distractor"}
    assert {r.cls for r in world.truth.items.values()} == {"distractor"}


def items_of(faults, seed=5):
    world = World(seed=seed, faults=faults)
    world.set_motor(0.6, 1)
    world.step(8.0)
    return [(r.cls, round(r.size, 9)) for r in world.truth.items.values()]


def test_faults_leave_the_item_stream_alone():
    base = items_of(Faults())
    assert items_of(Faults(frame_drop=0.5, freeze=0.2, beam_bounce=0.5, sticky_servo=0.5)) == base
    assert items_of(Faults(), seed=6) != base


def test_faults_parse_and_reject_bad_values():
    assert Faults.parse("frame_drop=0.1, belt_slip=0.05") == Faults(frame_drop=0.1, belt_slip=0.05)
    with pytest.raises(ValueError, match="frame_dorp"):
        Faults.parse("frame_dorp=0.1")
    with pytest.raises(ValueError, match="probability"):
        Faults(frame_drop=1.5)


def test_cell_rejects_diverters_inside_the_camera_view():
    with pytest.raises(ValueError, match="downstream of the camera"):
        Cell(diverters=(200.0, 600.0))
