"""Devices on the sim backend, timed by a virtual clock."""

import threading

import pytest

from hal.devices import (
    LED,
    AngularServo,
    Button,
    DigitalInput,
    DigitalOutput,
    DistanceSensor,
    Motor,
    PulseCounter,
    Servo,
    SimHCSR04,
)
from hal.gpio import PinUsageError, VirtualClock, get_factory


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def factory(clock):
    with get_factory("sim", board="jetson-nano", clock=clock) as factory:
        yield factory


class FakePWMOutput:
    """A "PWM output" that is not a GPIO pin (as a PCA9685 channel is)."""

    def __init__(self):
        self.frequency, self.duty_cycle, self.closed = None, None, False

    def close(self):
        self.closed = True


def test_led_on_off_toggle_and_close_releases(factory):
    led = LED(12, factory=factory)
    led.on()
    assert led.is_lit
    led.toggle()
    assert not led.is_lit
    led.on()
    led.close()
    factory.line(12).assert_states([0, 1, 0, 1, 0])
    assert factory.claimed == []


def test_led_blink_timing_on_the_clock(factory, clock):
    led = LED(12, factory=factory)
    led.blink(on_time=0.2, off_time=0.3, n=3)
    clock.advance(10)
    factory.line(12).assert_states_and_times(
        [(0, 0), (0, 1), (0.2, 0), (0.5, 1), (0.7, 0), (1.0, 1), (1.2, 0)], tolerance=1e-9
    )


def test_led_blink_forever_stops_on_off(factory, clock):
    led = LED(12, factory=factory)
    led.blink(0.1, 0.1)
    clock.advance(1.05)
    led.off()
    clock.advance(5)
    assert len(factory.line(12).states) == 1 + 11 + 1  # claim, 11 toggles, off


def test_led_brightness_needs_a_pwm_pin(factory):
    with pytest.raises(PinUsageError, match=r"pin 12 .* PWM pins: 32, 33"):
        LED(12, pwm=True, factory=factory)
    assert factory.claimed == []  # the failed LED released its pin
    led = LED(32, pwm=True, factory=factory)
    led.value = 0.25
    assert factory.line(32).duty_cycles[-1][1] == 0.25


def test_active_low_relay_is_off_high_and_left_off_on_close(factory):
    relay = DigitalOutput(18, active_high=False, factory=factory)
    assert factory.line(18).level == 1
    relay.on()
    assert factory.line(18).level == 0
    relay.close()
    assert factory.line(18).level == 1


def test_button_pressed_held_released_on_jetson_with_external_pull_up(factory, clock):
    factory.line(16).resistor = "up"  # Jetson: a 10k resistor to 3.3V
    button = Button(16, hold_time=1.0, factory=factory)
    events = []
    button.when_pressed = lambda: events.append(("pressed", clock()))
    button.when_held = lambda: events.append(("held", clock()))
    button.when_released = lambda: events.append(("released", clock()))
    assert not button.is_pressed
    clock.advance(1)
    factory.line(16).drive_low()
    factory.settle()
    clock.advance(1.5)
    assert button.is_held
    factory.line(16).drive_high()
    factory.settle()
    assert events == [("pressed", 1.0), ("held", 2.0), ("released", 2.5)]


def test_button_short_press_is_not_held_and_repeat_holds(factory, clock):
    factory.line(16).resistor = "up"
    button = Button(16, hold_time=0.5, hold_repeat=True, factory=factory)
    held = []
    button.when_held = lambda: held.append(clock())
    factory.line(16).drive_low()
    factory.settle()
    clock.advance(1.6)
    factory.line(16).drive_high()
    factory.settle()
    clock.advance(5)
    assert held == [0.5, 1.0, 1.5]


def test_button_pull_up_on_pi_by_default(clock):
    with get_factory("sim", board="rpi4", clock=clock) as pi:
        button = Button(16, factory=pi)
        assert button.pin.pull == "up" and not button.is_pressed


def test_button_wait_for_press(factory):
    factory.line(16).resistor = "up"
    button = Button(16, factory=factory)
    assert button.wait_for_press(timeout=0.01) is False
    presser = threading.Thread(target=factory.line(16).drive_low)
    presser.start()
    assert button.wait_for_press(timeout=5) is True
    presser.join()


def test_break_beam_and_estop_inputs(factory):
    beam = DigitalInput(18, active_low=True, factory=factory)  # open collector: low = broken
    estop = DigitalInput(22, active_low=False, factory=factory)  # NC to GND: high = stop
    factory.line(18).resistor = "up"
    broken = []
    beam.when_activated = lambda: broken.append(True)
    factory.line(18).drive_low()
    factory.settle()
    assert broken == [True] and beam.is_active
    assert not estop.is_active
    factory.line(22).drive_high()
    assert estop.wait_for_active(timeout=1)


def test_servo_pulse_widths_on_gpio_pwm_and_detach_on_close(factory):
    servo = Servo(33, factory=factory)
    servo.max()
    servo.min()
    servo.close()
    line = factory.line(33)
    assert line.frequencies == [(0.0, 50.0)]
    assert [round(d, 6) for _, d in line.duty_cycles] == [0.0, 0.075, 0.1, 0.05, 0.0]


def test_angular_servo_on_any_pwm_output():
    output = FakePWMOutput()
    servo = AngularServo(
        output, min_angle=-90, max_angle=90, min_pulse_width=0.5e-3, max_pulse_width=2.5e-3
    )
    assert output.frequency == 50.0
    servo.angle = 45
    assert servo.pulse_width == pytest.approx(2.0e-3)
    assert output.duty_cycle == pytest.approx(0.1)
    assert servo.angle == pytest.approx(45)
    with pytest.raises(ValueError, match=r"-90..90"):
        servo.angle = 120
    servo.close()
    assert output.duty_cycle == 0.0 and output.closed


def test_motor_h_bridge_forward_backward_brake_coast(factory):
    motor = Motor(forward=29, backward=31, enable=32, factory=factory)
    fwd, bwd, en = factory.line(29), factory.line(31), factory.line(32)
    motor.forward(0.5)
    assert (fwd.level, bwd.level, en.duty_cycles[-1][1]) == (1, 0, 0.5)
    motor.backward(0.25)
    assert (fwd.level, bwd.level, en.duty_cycles[-1][1]) == (0, 1, 0.25)
    motor.brake()
    assert (fwd.level, bwd.level, en.duty_cycles[-1][1]) == (1, 1, 1.0) and motor.is_braking
    motor.stop()
    assert (fwd.level, bwd.level, en.duty_cycles[-1][1]) == (0, 0, 0.0)
    motor.forward()
    motor.close()
    assert (fwd.level, bwd.level, en.duty_cycles[-1][1]) == (0, 0, 0.0)
    assert factory.claimed == []


def test_motor_on_two_pwm_outputs():
    a, b = FakePWMOutput(), FakePWMOutput()
    motor = Motor(a, b)
    motor.value = -0.75
    assert (a.duty_cycle, b.duty_cycle) == (0.0, 0.75)
    motor.close()
    assert (a.duty_cycle, b.duty_cycle, a.closed, b.closed) == (0.0, 0.0, True, True)


def test_distance_sensor_against_the_sim_echo(factory, clock):
    sensor = DistanceSensor(echo=18, trigger=16, max_distance=2.0, factory=factory)
    twin = SimHCSR04(factory, echo=18, trigger=16, distance=0.25)
    assert sensor.distance == pytest.approx(0.25, abs=1e-9)
    clock.advance(0.06)  # the datasheet's measurement cycle
    twin.distance = 1.5
    assert sensor.distance == pytest.approx(1.5, abs=1e-9)
    clock.advance(0.06)
    twin.distance = None  # nothing in range
    assert sensor.distance == 2.0


def test_pulse_counter_rate_over_window(factory, clock):
    counter = PulseCounter(40, window=1.0, factory=factory)
    line = factory.line(40)
    for _ in range(20):  # 20 Hz for one second: rising edges at 0.025, 0.075, ... 0.975
        clock.advance(0.025)
        line.drive_high()
        clock.advance(0.025)
        line.drive_low()
    factory.settle()
    assert counter.count == 20
    assert counter.rate == 20.0
    clock.advance(0.5)
    assert counter.rate == 10.0
    counter.reset()
    assert (counter.count, counter.rate) == (0, 0.0)


def test_device_on_a_power_pin_names_the_use(factory):
    with pytest.raises(PinUsageError) as err:
        LED(2, factory=factory)
    assert str(err.value).startswith(
        "pin 2 on the Jetson Nano dev kit is 5V power; it cannot be an output. GPIO pins: 7, 11"
    )
    with pytest.raises(PinUsageError, match=r"pin 1 .* is 3.3V power; it cannot be an input"):
        Button(1, factory=factory)


def test_devices_are_context_managers_and_refuse_use_after_close(factory):
    with LED(12, factory=factory) as led:
        led.on()
    with pytest.raises(RuntimeError, match="closed"):
        led.on()
    assert factory.claimed == []


def test_devices_use_the_default_factory(monkeypatch, clock):
    from hal.gpio import set_default_factory

    sim = get_factory("sim", board="jetson-nano", clock=clock)
    previous = set_default_factory(sim)
    try:
        led = LED(12)
        assert led.factory is sim
        led.close()
    finally:
        set_default_factory(previous)
        sim.close()
