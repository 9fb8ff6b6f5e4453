"""The sim backend: board rules, recorded history with times, debounce, edge callbacks."""

import threading

import pytest

from hal.gpio import PinUsageError, VirtualClock, get_factory
from hal.gpio.sim import SimFactory


def sim(board="jetson-nano"):
    clock = VirtualClock()
    return get_factory("sim", board=board, clock=clock), clock


def test_output_states_recorded_with_virtual_times():
    factory, clock = sim()
    with factory:
        pin = factory.pin(12)
        pin.function = "output"
        pin.state = 1
        clock.advance(0.25)
        pin.state = 0
        clock.advance(0.5)
        pin.state = 1
        pin.state = 1  # no change, not recorded
        factory.line(12).assert_states_and_times([(0.0, 0), (0.0, 1), (0.25, 0), (0.75, 1)])
        assert pin.state == 1


def test_assert_helpers_fail_with_what_differs():
    factory, clock = sim()
    with factory:
        pin = factory.pin(12)
        pin.function = "output"
        clock.advance(0.1)
        pin.state = 1
        with pytest.raises(AssertionError, match="expected"):
            factory.line(12).assert_states_and_times([(0.0, 0), (0.2, 1)], tolerance=0.05)
        factory.line(12).assert_states_and_times([(0.0, 0), (0.12, 1)], tolerance=0.05)
        with pytest.raises(AssertionError):
            factory.line(12).assert_states([0, 0])


@pytest.mark.parametrize(
    "channel, use, message",
    [
        (2, lambda p: None, "pin 2 on the Jetson Nano dev kit is 5V power"),
        (3, lambda p: None, "pin 3 on the Jetson Nano dev kit is I2C bus 1 SDA"),
        (
            12,
            lambda p: setattr(p, "duty_cycle", 0.5),
            "pin 12 .* has no hardware PWM; PWM pins: 32, 33",
        ),
        (16, lambda p: setattr(p, "pull", "up"), "pin 16 .* external pull-up resistor"),
    ],
)
def test_sim_enforces_board_rules(channel, use, message):
    factory, _ = sim()
    with factory, pytest.raises(PinUsageError, match=message):
        use(factory.pin(channel))


def test_pin_used_twice_names_free_pins_and_close_frees_it():
    factory, _ = sim()
    with factory:
        pin = factory.pin(32)
        with pytest.raises(PinUsageError, match=r"pin 32 .* already in use.*: 7, 11, 12"):
            factory.pin("GPIO07")  # the same pin by its CVM name
        pin.close()
        assert factory.pin(32).number == 32


def test_bcm_numbering():
    factory, _ = sim()
    with factory:
        assert factory.pin(18, numbering="BCM").number == 12


def test_writing_an_input_is_an_error_naming_the_fix():
    factory, _ = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        with pytest.raises(PinUsageError, match=r"set pin.function = 'output'"):
            pin.state = 1


def test_pull_up_modelled_on_pi_and_fixed_pull_ups_on_i2c_pins():
    factory, _ = sim("rpi4")
    with factory:
        up = factory.pin(16)
        up.pull = "up"
        up.function = "input"
        down = factory.pin(18)
        down.pull = "down"
        down.function = "input"
        i2c = factory.pin(3)
        i2c.function = "input"
        assert (up.state, down.state, i2c.state) == (1, 0, 1)
        factory.line(16).drive_low()
        assert up.state == 0
        factory.line(16).release()
        assert up.state == 1


def test_floating_jetson_input_reads_external_resistor():
    factory, _ = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        assert pin.state == 0
        factory.line(16).resistor = "up"
        assert pin.state == 1


def test_world_cannot_drive_a_program_output():
    factory, _ = sim()
    with factory:
        pin = factory.pin(12)
        pin.function = "output"
        with pytest.raises(PinUsageError, match="output of the program"):
            factory.line(12).drive_high()


def test_edge_callbacks_run_on_another_thread_with_times():
    factory, clock = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        seen = []
        pin.when_changed = lambda state, t: seen.append((state, t, threading.current_thread().name))
        clock.advance(1.0)
        pin.drive_high()
        clock.advance(0.5)
        pin.drive_low()
        assert factory.settle()
        assert seen == [(1, 1.0, "hal-sim-gpio-events"), (0, 1.5, "hal-sim-gpio-events")]


def test_events_settle_delivers_in_settle_on_the_settling_thread_in_order():
    clock = VirtualClock()
    with SimFactory(clock=clock, events="settle") as factory:
        seen = []
        echo = factory.pin(18)
        echo.function = "input"
        echo.when_changed = lambda state, t: seen.append(("echo", state))
        pin = factory.pin(16)
        pin.function = "input"
        pin.when_changed = lambda state, t: (
            seen.append((state, t, threading.current_thread())),
            factory.line(18).drive(state),  # a callback's own edges are delivered too
        )
        clock.advance(1.0)
        pin.drive_high()
        clock.advance(0.5)
        pin.drive_low()
        assert seen == []  # nothing until the owner settles
        assert factory.settle() is True
        me = threading.current_thread()
        assert seen == [(1, 1.0, me), (0, 1.5, me), ("echo", 1), ("echo", 0)]
        assert factory.settle() and len(seen) == 4
    with pytest.raises(PinUsageError, match="events must be 'thread' or 'settle', not 'inline'"):
        SimFactory(events="inline")


def test_rising_only_filter():
    factory, clock = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        pin.edges = "rising"
        seen = []
        pin.when_changed = lambda state, t: seen.append(state)
        for _ in range(3):
            pin.drive_high()
            clock.advance(0.1)
            pin.drive_low()
            clock.advance(0.1)
        factory.settle()
        assert seen == [1, 1, 1]


def test_software_debounce_drops_bounces_and_reports_the_settled_level():
    factory, clock = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        pin.bounce = 0.02
        seen = []
        pin.when_changed = lambda state, t: seen.append((state, round(t, 6)))
        line = factory.line(16)
        # contact bounce: H L H L within 5 ms, settling LOW
        for i, level in enumerate([1, 0, 1, 0]):
            line.drive(level, t=i * 0.001)
        factory.settle()
        assert seen == [(1, 0.0)]  # the first edge, at once
        clock.advance(0.03)  # the window ends: the level is re-read and the change reported
        factory.settle()
        assert seen == [(1, 0.0), (0, 0.02)]


def test_repeated_events_without_level_change_are_dropped():
    factory, _ = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        seen = []
        pin.when_changed = lambda state, t: seen.append(state)
        pin.drive_high()
        pin._edge(1)  # a duplicate event as Jetson.GPIO sometimes delivers
        factory.settle()
        assert seen == [1]


def test_wait_for_edge_true_on_edge_false_on_timeout():
    factory, _ = sim()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        assert pin.wait_for_edge("rising", timeout=0.01) is False
        done = threading.Event()

        def toggle_until_seen():  # edges keep coming until the waiter has returned
            while not done.is_set():
                pin.drive_high()
                pin.drive_low()
                factory.settle()

        toggler = threading.Thread(target=toggle_until_seen)
        toggler.start()
        try:
            assert pin.wait_for_edge("rising", timeout=5) is True
        finally:
            done.set()
            toggler.join()


def test_pwm_frequency_and_duty_recorded_and_duty_zero_on_close():
    factory, clock = sim()
    with factory:
        servo = factory.pwm(33, frequency=50)
        clock.advance(1.0)
        servo.duty_cycle = 0.075
        clock.advance(1.0)
        servo.frequency = 60
        servo.close()
        line = factory.line(33)
        assert line.frequencies == [(0.0, 50.0), (2.0, 60.0)]
        assert line.duty_cycles == [(0.0, 0.0), (1.0, 0.075), (2.0, 0.0)]
        with pytest.raises(PinUsageError, match=r"within 0..1"):
            factory.pwm(32).duty_cycle = 1.5


def test_factory_close_releases_exactly_its_pins_outputs_low_first():
    factory, _ = sim()
    other, _ = sim()
    out = factory.pin(12)
    out.function = "output"
    out.state = 1
    factory.pin(16).function = "input"
    mine = other.pin(18)
    assert factory.claimed == [12, 16]
    factory.close()
    assert factory.claimed == [] and out.closed and not mine.closed
    assert factory.line(12).states[-1][1] == 0
    with pytest.raises(PinUsageError, match="factory is closed"):
        factory.pin(12)
    other.close()


def test_subscribers_observe_outputs():
    factory, clock = sim()
    with factory:
        changes = []
        factory.line(12).subscribe(changes.append)
        pin = factory.pin(12)
        pin.function = "output"
        clock.advance(0.5)
        pin.state = 1
        assert [(c.t, c.kind, c.value) for c in changes] == [(0.0, "state", 0), (0.5, "state", 1)]
