"""sims.conveyor physics: belt lag, encoder, e-stop, slew-limited servos, diverting and jams."""

import math

import pytest

from sims.conveyor import Cell, Faults, World
from sims.conveyor.paddle import Paddle

TARGET = 250.0 * (0.6 - 0.1) / 0.9  # default motor at duty 0.6, mm/s


def run(world, seconds, dt=0.01):
    edges = []
    for _ in range(round(seconds / dt)):
        edges.extend(world.step(dt))
    return edges


def test_belt_speed_follows_duty_with_a_first_order_lag():
    world = World(seed=1)
    world.set_motor(0.6, 1)
    run(world, 0.25)  # one time constant
    assert world.belt.speed == pytest.approx(TARGET * (1 - math.exp(-1)), rel=1e-6)
    run(world, 1.0)  # five time constants in all
    assert world.belt.speed == pytest.approx(TARGET, rel=0.01)
    world.set_motor(0.6, -1)
    run(world, 2.0)
    assert world.belt.speed == pytest.approx(-TARGET, rel=1e-3)
    world.set_motor(0.05, 1)  # below the deadband
    run(world, 2.0)
    assert abs(world.belt.speed) < 0.05


def test_belt_travel_is_the_integral_of_speed():
    world = World(seed=1)
    world.set_motor(1.0, 1)
    run(world, 3.0, dt=1 / 30)
    tau = world.cell.motor.time_constant
    expected = 250.0 * (3.0 - tau * (1 - math.exp(-3.0 / tau)))
    assert world.belt.travel == pytest.approx(expected, rel=1e-9)


def test_encoder_pulse_rate_matches_belt_speed():
    world = World(seed=1)
    world.set_motor(0.6, 1)
    run(world, 2.0)  # at speed
    start = world.belt.roller
    edges = [e for e in run(world, 2.0, dt=1 / 30) if e.signal == "encoder"]
    rising = [e for e in edges if e.level == 1]
    assert len(rising) == pytest.approx(
        (world.belt.roller - start) / world.cell.mm_per_pulse, abs=1
    )
    rate = (len(rising) - 1) / (rising[-1].t - rising[0].t)
    assert rate * world.cell.mm_per_pulse == pytest.approx(TARGET, rel=0.01)
    assert all(a.level != b.level for a, b in zip(edges, edges[1:]))  # a clean square wave
    assert all(a.t < b.t for a, b in zip(edges, edges[1:]))


def test_estop_cuts_the_motor_and_latches_until_reset():
    world = World(seed=1)
    world.set_motor(0.6, 1)
    run(world, 2.0)
    world.press_estop()
    edges = run(world, 2.0)
    assert [e.level for e in edges if e.signal == "estop"] == [0]
    assert abs(world.belt.speed) < 0.01 * TARGET
    assert world.levels()["estop"] == 0  # latched: stays low with nothing touching it
    world.reset_estop()
    edges = run(world, 2.0)
    assert [e.level for e in edges if e.signal == "estop"] == [1]
    assert world.belt.speed == pytest.approx(TARGET, rel=0.01)


def test_start_button_is_active_low():
    world = World(seed=1)
    assert world.levels()["start"] == 1
    world.press_start()
    world.press_start(False)
    assert [(e.signal, e.level) for e in world.step(0.1)] == [("start", 0), ("start", 1)]


def test_servo_slews_at_the_datasheet_speed_and_holds_without_pulses():
    cell = Cell()
    world = World(cell, seed=1)
    paddle = world.paddles[0]
    world.set_servo(0, cell.servo.pulse_for(60))
    world.step(0.06)  # half of 0.12 s per 60 degrees
    assert paddle.angle == pytest.approx(30.0, abs=1e-6)
    assert paddle.extension == pytest.approx(0.5)
    world.step(0.06)
    assert paddle.angle == pytest.approx(60.0)
    world.set_servo(0, 0)  # pulses stop: the servo holds
    world.step(0.5)
    assert paddle.angle == pytest.approx(60.0)
    world.set_servo(0, cell.servo.pulse_for(0))
    world.step(0.03)
    assert paddle.angle == pytest.approx(45.0)


def test_servo_angle_from_pulse_width():
    servo = Cell().servo
    assert servo.angle_for(500) == 0 and servo.angle_for(2500) == 180
    assert servo.angle_for(1500) == pytest.approx(90)
    assert servo.angle_for(3000) == 180  # clamped to the travel
    assert servo.angle_for(servo.pulse_for(60)) == pytest.approx(60)


def _first_beside(world, diverter, limit=30.0):
    while world.t < limit:
        world.step(0.005)
        for item in world.items:
            if diverter in item.beside:
                return item
    raise AssertionError("no item came beside diverter %d" % diverter)


def test_paddle_extended_onto_an_item_beside_it_jams_the_item():
    world = World(seed=3)
    world.set_motor(0.6, 1)
    item = _first_beside(world, 0)
    world.set_servo(0, world.cell.servo.pulse_for(60))
    world.step(0.05)
    record = world.truth.items[item.id]
    assert (record.reason, record.bin) == ("jammed", None)
    assert item not in world.items and all(item not in b for b in world.bins.values())
    assert world.truth.confusion()[world.truth.classes.index(item.cls), -1] == 1


def test_fully_extended_paddle_diverts_the_item_into_its_bin():
    world = World(seed=3)
    world.set_motor(0.6, 1)
    world.set_servo(1, world.cell.servo.pulse_for(60))
    run(world, 0.2)
    assert world.paddles[1].extension == pytest.approx(1.0)
    while not world.bins[1]:
        world.step(0.01)
        assert world.t < 30
    item = world.bins[1][0]
    record = world.truth.items[item.id]
    assert (record.reason, record.bin) == ("diverted", 1)
    assert sorted(record.beams) == [0, 1]  # it broke the beams on its way


def test_items_no_diverter_takes_fall_through_to_reject():
    world = World(seed=4)
    world.set_motor(1.0, 1)
    run(world, 20.0, dt=1 / 30)
    finished = world.truth.finished()
    assert finished and all(r.bin == "reject" and r.reason == "fell through" for r in finished)
    assert all(sorted(r.beams) == [0, 1, 2] for r in finished)
    summary = world.truth.summary()
    assert sum(map(sum, summary["confusion"])) == summary["finished"] == len(finished)
    assert world.truth.finished_count == len(finished)
    assert sum(summary["per_class"].values()) == summary["items"]


def test_beam_is_low_exactly_while_an_item_covers_it():
    world = World(seed=5)
    world.set_motor(0.6, 1)
    edges = [e for e in run(world, 12.0) if e.signal == "beam0"]
    lows = [e.t for e in edges if e.level == 0]
    broken = sorted(t for r in world.truth.items.values() for b, t in r.beams.items() if b == 0)
    assert lows and lows == pytest.approx(broken[: len(lows)])
    assert all(a.level != b.level for a, b in zip(edges, edges[1:]))


def test_items_enter_spaced_by_belt_travel_with_sizes_in_range():
    world = World(seed=6)
    world.set_motor(1.0, 1)
    run(world, 10.0, dt=1 / 30)
    items = sorted(world.items, key=lambda i: -i.x)  # downstream first
    lo, hi = world.cell.item_gap
    for a, b in zip(items, items[1:]):
        assert lo - 1e-6 <= a.rear - b.front <= hi + 1e-6
    assert all(24 <= r.size <= 44 for r in world.truth.items.values())


def test_every_class_comes_in_the_whole_size_range():
    world = World(seed=7)
    world.set_motor(1.0, 1)
    run(world, 60.0, dt=0.05)
    sizes = {}
    for r in world.truth.items.values():
        sizes.setdefault(r.cls, []).append(r.size)
    assert sorted(sizes) == ["bolt", "bracket", "nut", "washer"]
    assert all(min(s) < 30 and max(s) > 38 for s in sizes.values())  # size says nothing of class


def test_slow_and_sticky_servo_faults_only_hit_the_faulty_servos():
    cell = Cell()
    world = World(cell, seed=1, faults=Faults(slow_servo=1.0, servos=(1,)))
    for i in range(3):
        world.set_servo(i, cell.servo.pulse_for(60))
    world.step(0.12)
    assert [round(p.angle) for p in world.paddles] == [60, 30, 60]


def test_sticky_servo_ignores_a_new_command_for_its_stick_time():
    cell = Cell()
    world = World(cell, seed=1, faults=Faults(sticky_servo=1.0, stick_time=0.3))
    world.set_servo(0, cell.servo.pulse_for(60))
    world.step(0.3)
    assert world.paddles[0].angle == 0.0
    world.step(0.06)
    assert world.paddles[0].angle == pytest.approx(30.0)


def test_paddle_without_faults_is_never_stuck():
    paddle = Paddle(Cell().servo, rng=None)
    paddle.command(Cell().servo.pulse_for(60), 0.0)
    paddle.advance(0.0, 0.12)
    assert paddle.extension == pytest.approx(1.0)
