"""The io node on the simulated cell, under the simulation executor (virtual time): belt
speed and travel, beam events, diverter timing, late commands, e-stop, watchdog, teardown."""

import pytest
from io_standins import HeldUpIONode, PreemptedIONode, ScriptedScheduler

from apps.sorter.io import IONode
from nanobot.executors.sim import SimExecutor
from nanobot.graph import Graph

MS = 1_000_000


def cell_graph(io=None, script=(), silent=(), cls=IONode):
    graph = Graph("io-test", seed=3)
    params = {"hal": "sim", "seed": 3, "speed_mm_s": 150.0}
    params.update(io or {})
    graph.add(cls, "io", params, group="cell")
    graph.add(ScriptedScheduler, "scheduler", {"script": list(script), "silent": list(silent)})
    return graph


def motor_duty_changes(io):
    line = io.cell.gpio.line(io.cell.wiring.motor.pwm)
    return [(round(t * 1e9), d) for t, d in line.duty_cycles]


def pulses(io, diverter):
    """[(time ns, pulse us)] of diverter's PCA9685 channel."""
    channel = io.cell.wiring.diverters[diverter].channel
    return [
        (round(c.time * 1e9), round(c.output.pulse_us)) for c in io.cell.pca9685.history(channel)
    ]


EXTENDED_US = 500 + 2000 * 60 / 180  # the wiring's servo: 500..2500 us for 0..180 deg


def test_belt_speed_tracks_the_set_point_and_travel_matches_the_world():
    with SimExecutor(cell_graph(), record=["belt"]) as sim:
        sim.run_until(3.0)
        io = sim.nodes["io"]
        roller3 = io.cell.world.belt.roller
        sim.run_until(5.0)
        roller5 = io.cell.world.belt.roller
        states = {p.stamp: p.message() for p in sim.result().published("belt")}
    assert sorted(states) == [k * 20 * MS for k in range(1, 251)]  # 50 Hz up to 5 s
    after_lag = [s.speed_mm_s for t, s in states.items() if t >= 2000 * MS]
    assert min(after_lag) == pytest.approx(150.0, rel=0.03)
    assert max(after_lag) == pytest.approx(150.0, rel=0.03)
    assert io.cell.world.belt.speed == pytest.approx(150.0, rel=0.01)
    travel = states[5000 * MS].position_mm - states[3000 * MS].position_mm
    assert travel == pytest.approx(roller5 - roller3, abs=2.0)  # within one encoder pulse
    assert all(s.running and not s.estop for t, s in states.items() if t >= 500 * MS)


def test_the_belt_is_measured_at_its_scan_even_when_the_node_is_held_up_after_it():
    # 30 ms pass between each scan of the encoder and the rest of the callback: the speed
    # and position must still be those of the scan's moment, and the speed loop hold 150
    graph = cell_graph({"lag_s": 0.03}, cls=PreemptedIONode)
    with SimExecutor(graph, record=["belt"]) as sim:
        sim.run_until(5.0)
        io = sim.nodes["io"]
        states = [p.message() for p in sim.result().published("belt")]
        assert io.cell.world.belt.speed == pytest.approx(150.0, rel=0.01)
    after_lag = [s for s in states if s.stamp >= 2000 * MS]
    assert min(s.speed_mm_s for s in after_lag) == pytest.approx(150.0, rel=0.03)
    assert max(s.speed_mm_s for s in after_lag) == pytest.approx(150.0, rel=0.03)
    travel = after_lag[-1].position_mm - after_lag[0].position_mm
    seconds = (after_lag[-1].stamp - after_lag[0].stamp) / 1e9
    assert travel / seconds == pytest.approx(150.0, rel=0.01)


def test_beam_events_carry_the_times_items_break_the_beams():
    with SimExecutor(cell_graph(), record=["beams"]) as sim:
        sim.run_until(8.0)
        truth = sim.nodes["io"].cell.world.truth
        events = [p.message() for p in sim.result().published("beams")]
    breaks = {}
    for e in events:
        if e.level == 0:
            breaks.setdefault(e.name, []).append(e.stamp)
    for beam in range(3):
        expected = sorted(
            round(r.beams[beam] * 1e9) for r in truth.items.values() if beam in r.beams
        )
        assert len(expected) >= 3, "the run is too short to test beam %d" % beam
        assert breaks["beam%d" % beam] == pytest.approx(expected, abs=1000)  # 1 us
    assert {e.pin for e in events if e.name == "beam0"} == {16}


def test_a_command_extends_and_retracts_its_paddle_at_the_requested_times():
    script = [[2.0, 1, 3.0, 3.4]]
    with SimExecutor(cell_graph(script=script)) as sim:
        sim.run_until(3.0 + 0.15)
        io = sim.nodes["io"]
        assert io.cell.world.paddles[1].extension == pytest.approx(1.0, abs=0.01)
        assert io.cell.world.paddles[0].extension == 0.0
        sim.run_until(4.0)
        changes = [(t, us) for t, us in pulses(io, 1) if t > 0]
    assert changes[0] == (3000 * MS, pytest.approx(EXTENDED_US, abs=3))
    assert changes[1] == (3400 * MS, pytest.approx(500, abs=3))
    assert io.counts["executed"] == 1 and io.counts["late"] == 0


def test_late_and_invalid_commands_are_refused_and_counted():
    script = [[2.0, 0, 1.9, 2.3], [2.0, 7, 2.5, 2.9], [2.0, 0, 2.5, 2.5]]
    with SimExecutor(cell_graph(script=script), record=["io/status"]) as sim:
        sim.run_until(3.0)
        io = sim.nodes["io"]
        assert [(t, us) for t, us in pulses(io, 0) if t > 0] == []
        status = sim.result().published("io/status")[-1].message().values
    assert (status["late"], status["invalid"], status["executed"]) == (1, 2, 0)


@pytest.mark.parametrize("hold_ms, extended", [(50, False), (15, True)])
def test_an_extension_reached_too_late_is_skipped_not_swung_into_the_item(hold_ms, extended):
    # the node is held up: the command's timers fire hold_ms late (late_s is 20 ms)
    graph = cell_graph({"hold_s": hold_ms / 1e3}, [[2.0, 1, 3.0, 3.4]], cls=HeldUpIONode)
    with SimExecutor(graph, record=["io/status"]) as sim:
        sim.run_until(4.0)
        io = sim.nodes["io"]
        changes = [(t, us) for t, us in pulses(io, 1) if t > 0]
        status = sim.result().published("io/status")[-1].message().values
    if extended:
        assert changes[0] == ((3000 + hold_ms) * MS, pytest.approx(EXTENDED_US, abs=3))
        assert (io.counts["executed"], io.counts["late"]) == (1, 0)
    else:
        assert all(us == pytest.approx(500, abs=3) for _, us in changes)  # never out
        assert (io.counts["executed"], io.counts["late"]) == (0, 1)
        assert status["late"] == 1 and status["pending"] == 0


def test_a_late_extension_of_a_paddle_already_out_for_the_window_before_goes_ahead():
    # the second window of diverter 1 opens while the first holds the paddle out; only the
    # second command's timers are late (set after 2.2 s): the paddle stays out throughout
    script = [[2.0, 1, 3.0, 3.4], [2.5, 1, 3.3, 3.7]]
    graph = cell_graph({"hold_s": 0.05, "held_from_s": 2.2}, script, cls=HeldUpIONode)
    with SimExecutor(graph) as sim:
        sim.run_until(4.0)
        io = sim.nodes["io"]
        changes = [(t, us) for t, us in pulses(io, 1) if t > 0]
    assert changes[0] == (3000 * MS, pytest.approx(EXTENDED_US, abs=3))
    retracts = [t for t, us in changes if us == pytest.approx(500, abs=3)]
    assert retracts == [3750 * MS]  # the second window's retract, 50 ms late
    assert (io.counts["executed"], io.counts["late"]) == (2, 0)


def test_estop_stops_the_belt_at_once_and_nothing_is_diverted_afterwards():
    # diverter 0 out when the e-stop comes; a command after it; items keep arriving
    script = [[1.0, 0, 2.9, 3.5], [3.1, 1, 3.5, 3.8]]
    with SimExecutor(cell_graph(script=script), record=["belt"]) as sim:
        sim.run_until(3.0)
        io = sim.nodes["io"]
        assert io.cell.world.paddles[0].extension == pytest.approx(0.8, abs=0.05)
        io.cell.press_estop()
        sim.run_until(6.0)
        duty = motor_duty_changes(io)
        stop = next(t for t, d in duty if t >= 3000 * MS and d == 0.0)
        assert stop - 3000 * MS <= 50 * MS
        retract = [t for t, us in pulses(io, 0) if t >= 3000 * MS and abs(us - 500) <= 3]
        assert retract and retract[0] - 3000 * MS <= 50 * MS
        assert [t for t, us in pulses(io, 1) if t > 0] == []  # the later command: refused
        assert all(d == 0.0 for t, d in duty if t >= stop)  # no restart while latched
        assert io.state == "estop" and io.counts["refused"] == 1
        diverted = [r for r in io.cell.world.truth.items.values() if r.reason == "diverted"]
        assert all(r.end_t < 3.0 for r in diverted)
        belt = [p.message() for p in sim.result().published("belt")]
        assert all(b.estop and not b.running for b in belt if b.stamp > 3005 * MS)
        # released, it stays stopped until start is pressed
        io.cell.reset_estop()
        sim.run_until(7.0)
        assert io.state == "estop" and io.hw.motor.value == 0.0
        io.cell.press_start()
        sim.run_until(7.5)
        io.cell.press_start(False)
        sim.run_until(9.0)
        assert io.state == "running" and io.cell.world.belt.speed > 100


def test_watchdog_stops_the_belt_when_the_scheduler_falls_silent_and_resumes():
    # keepalives every 0.25 s; none in [3.0, 5.0): the last one before is at 2.75 s
    with SimExecutor(cell_graph(io={"watchdog_s": 1.0}, silent=[3.0, 5.0])) as sim:
        sim.run_until(6.0)
        io = sim.nodes["io"]
        duty = motor_duty_changes(io)
    stopped = [t for t, d in duty if t > 2000 * MS and d == 0.0]
    assert stopped[0] == pytest.approx(3750 * MS, abs=6 * MS)  # 2.75 s + 1 s, next scan
    restarted = [t for t, d in duty if t > stopped[0] and d > 0.0]
    assert restarted[0] == 5000 * MS  # the first keepalive after the silence
    assert io.counts["watchdog"] == 1 and io.state == "running"


def test_the_belt_waits_for_the_scheduler_before_it_first_runs():
    with SimExecutor(cell_graph(io={"watchdog_s": 1.0}, silent=[0.0, 2.0])) as sim:
        sim.run_until(1.9)
        io = sim.nodes["io"]
        assert io.state == "waiting" and io.cell.world.belt.roller == 0.0


def test_teardown_stops_the_belt_and_releases_every_line():
    sim = SimExecutor(cell_graph(script=[[1.0, 2, 2.0, 2.6]]))
    sim.run_until(2.3)  # belt running, paddle 2 out
    io = sim.nodes["io"]
    gpio, chip, wiring = io.cell.gpio, io.cell.pca9685, io.cell.wiring
    assert gpio.claimed
    sim.close()
    assert gpio.claimed == []
    motor = gpio.line(wiring.motor.pwm)
    assert motor.duty_cycles[-1][1] == 0.0
    assert gpio.line(wiring.motor.in1).level == 0 and gpio.line(wiring.motor.in2).level == 0
    assert gpio.line(wiring.led).level == 0
    assert all(chip.output(d.channel).duty == 0.0 for d in wiring.diverters)
    # the retract was commanded before the servos were detached
    assert pulses(io, 2)[-2][1] == pytest.approx(500, abs=3)


def test_io_node_declares_the_header_pins_of_its_wiring():
    from apps.sorter.io import IONode

    params = {name: p.default for name, p in IONode.params.items()}
    used = IONode.pins(params)
    assert used[32] == "motor.pwm" and used[15] == "encoder" and used[37] == "estop"
    assert used[3] == "PCA9685 SDA" and used[5] == "PCA9685 SCL"
    assert len(used) == 12  # motor 3, encoder, 3 beams, estop, start, led, I2C 2
