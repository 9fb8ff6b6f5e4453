"""SimCell: a world on hal's simulated GPIO, PCA9685 and camera, driven by hal's own devices
and driver exactly as the app drives the board, in virtual time."""

import pytest

import hal.camera
from hal.devices import LED, DigitalInput, Motor, PulseCounter, Servo
from hal.gpio import VirtualClock
from hal.pca9685 import PCA9685
from sims.conveyor import Cell, World
from sims.conveyor.hardware import SimCell
from sims.conveyor.wiring import parse_wiring

TARGET = 250.0 * (0.6 - 0.1) / 0.9


@pytest.fixture
def cell():
    clock = VirtualClock()
    cell = SimCell(World(seed=2), clock=clock, camera="conveyor-test")
    cell.start()
    yield cell
    cell.close()


def test_motor_and_encoder_through_hal_devices(cell):
    w = cell.wiring
    motor = Motor(w.motor.in1, w.motor.in2, enable=w.motor.pwm, factory=cell.gpio)
    encoder = PulseCounter(w.encoder, window=1.0, pull=None, factory=cell.gpio)
    motor.value = 0.6
    cell.clock.advance(3.0)
    assert cell.gpio.settle()
    assert cell.world.belt.speed == pytest.approx(TARGET, rel=0.01)
    assert encoder.rate * cell.world.cell.mm_per_pulse == pytest.approx(TARGET, rel=0.02)
    motor.value = -0.6  # IN1/IN2 swap: the belt runs back
    cell.clock.advance(2.0)
    assert cell.world.belt.speed == pytest.approx(-TARGET, rel=0.02)
    motor.stop()
    cell.clock.advance(2.0)
    assert abs(cell.world.belt.speed) < 1.0


def test_pca9685_channels_drive_the_diverter_servos(cell):
    w = cell.wiring
    pca = PCA9685(cell.i2c, address=w.pca9685.address, frequency=50, sleep=cell.clock.advance)
    servo = cell.world.cell.servo
    pca.set_pulse_width_us(w.diverters[1].channel, servo.pulse_for(60))
    cell.clock.advance(0.06)
    assert cell.world.paddles[1].angle == pytest.approx(30.0, abs=1.0)
    cell.clock.advance(0.1)
    assert [round(p.extension, 2) for p in cell.world.paddles] == [0.0, 1.0, 0.0]


def test_beams_estop_start_and_led_lines(cell):
    w = cell.wiring
    beam = DigitalInput(w.beams[0], active_low=True, pull=None, factory=cell.gpio)
    estop = DigitalInput(w.estop, active_low=True, pull=None, factory=cell.gpio)
    start = DigitalInput(w.start, active_low=True, pull=None, factory=cell.gpio)
    led = LED(w.led, factory=cell.gpio)
    motor = Motor(w.motor.in1, w.motor.in2, enable=w.motor.pwm, factory=cell.gpio)
    assert not beam.is_active and not estop.is_active and not start.is_active
    motor.value = 0.6
    cell.clock.advance(8.0)
    breaks = [t for t, level in cell.gpio.line(w.beams[0]).states if level == 0]
    truth = sorted(r.beams[0] for r in cell.world.truth.items.values() if 0 in r.beams)
    assert breaks and breaks == pytest.approx(truth)  # edges carry the world's exact times
    cell.press_estop()
    assert estop.is_active
    cell.clock.advance(2.0)
    assert abs(cell.world.belt.speed) < 0.02 * TARGET  # the e-stop cuts the motor's power
    cell.reset_estop()
    cell.press_start()
    assert start.is_active and not estop.is_active
    led.on()
    assert cell.world.led == 1


def test_a_servo_on_a_gpio_pwm_pin():
    wiring = parse_wiring(
        {
            "board": "jetson-nano",
            "motor": {"pwm": 32, "in1": 29, "in2": 31},
            "encoder": 15,
            "beams": [16],
            "estop": 37,
            "start": 11,
            "led": 12,
            "diverters": [{"pin": 33}],
        }
    )
    cell = SimCell(World(Cell(diverters=(450.0,)), seed=1), wiring, camera="conveyor-gpio")
    try:
        servo = Servo(
            33,
            min_pulse_width=500e-6,
            max_pulse_width=2500e-6,
            initial_value=None,
            factory=cell.gpio,
        )
        servo.value = (cell.world.cell.servo.pulse_for(60) - 1500) / 1000  # -1..1: 500..2500 us
        cell.clock.advance(0.2)
        cell.sync()
        assert cell.world.paddles[0].extension == pytest.approx(1.0, abs=0.01)
    finally:
        cell.close()


def test_wiring_and_world_must_agree_on_diverters():
    with pytest.raises(ValueError, match="3 diverters but the world's cell has 1"):
        SimCell(World(Cell(diverters=(450.0,))), camera="conveyor-bad")


def test_camera_serves_world_frames_stamped_on_the_virtual_clock(cell):
    cell.clock.advance(1.0)
    camera = hal.camera.open("sim://conveyor-test")
    try:
        image, stamp, _ = camera.read(timeout=5.0)
    finally:
        camera.close()
    assert image.shape == (480, 640, 3)
    assert stamp == round(cell.world.t * 1e9)
    assert cell.feed.read() is None  # no new frame until the clock reaches the next one
    cell.clock.advance(1 / 30)
    assert cell.feed.read()[1] == round(cell.world.t * 1e9)


def test_real_time_on_the_wall_clock():
    from hal.gpio import WallClock

    cell = SimCell(World(seed=1), clock=WallClock(), camera="conveyor-wall")
    cell.start()
    try:
        camera = hal.camera.open("sim://conveyor-wall")
        try:
            first, _, _ = camera.read(timeout=5.0)
            second, _, _ = camera.read(timeout=5.0)
        finally:
            camera.close()
        assert first.shape == second.shape == (480, 640, 3)
        assert cell.world.t > 0  # the world follows the wall clock on its own
    finally:
        cell.close()
