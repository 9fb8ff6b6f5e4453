"""The rpigpio backend against a stand-in for Jetson.GPIO / RPi.GPIO (standin_gpio.py)."""

import errno
import threading

import pytest

from hal.gpio import GPIOSetupError, PinUsageError, VirtualClock
from hal.gpio.rpigpio import RPiGPIOFactory

from standin_gpio import BCM, BOARD, BOTH, HARD_PWM, IN, OUT, PUD_UP, StandinGPIO


def jetson(**standin_options):
    gpio = StandinGPIO("jetson", **standin_options)
    return gpio, RPiGPIOFactory(gpio, "jetson-nano", clock=VirtualClock())


def test_standin_sets_board_mode_and_drives_outputs():
    gpio, factory = jetson()
    with factory:
        pin = factory.pin(12)
        pin.function = "output"
        pin.state = 1
        assert gpio.mode == BOARD
        assert gpio.config == {12: OUT} and gpio.levels[12] == 1
        assert ("setup", 12, OUT, None, 0) in gpio.calls


def test_standin_follows_a_module_already_in_bcm_mode():
    gpio = StandinGPIO("jetson")
    gpio.setmode(BCM)
    with RPiGPIOFactory(gpio, "jetson-nano") as factory:
        factory.pin(12).function = "output"  # BOARD 12 is BCM 18
        assert gpio.config == {18: OUT}


def test_standin_rules_are_real_setup_before_setmode_raises():
    gpio = StandinGPIO("jetson")
    with pytest.raises(RuntimeError, match="set pin numbering mode"):
        gpio.setup(12, OUT)
    gpio.setmode(BOARD)
    with pytest.raises(ValueError, match="Channel 3 is invalid"):
        gpio.setup(3, IN)
    with pytest.raises(ValueError, match="Channel 12 is not a PWM"):
        gpio.PWM(12, 50)


def test_standin_pwm_in_percent_and_stopped_and_cleaned_on_close():
    gpio, factory = jetson()
    with factory:
        servo = factory.pwm(33, frequency=50)
        servo.duty_cycle = 0.075
        servo.frequency = 60
        assert gpio.config[33] == HARD_PWM
        pwm = gpio.pwms[33]
        assert (pwm.frequency, pwm.duty_cycle, pwm.running) == (60, 7.5, True)
        servo.close()
        assert not pwm.running and 33 not in gpio.config
        calls = [c for c in gpio.calls if c[0].startswith("PWM") or c == ("cleanup", 33)]
        assert calls == [
            ("PWM", 33, 50.0),
            ("cleanup", 33),  # Jetson.GPIO's PWM() releases the output line for the pwmchip
            ("PWM.start", 33, 0.0),
            ("PWM.ChangeDutyCycle", 33, 7.5),
            ("PWM.ChangeFrequency", 33, 60.0),
            ("PWM.ChangeDutyCycle", 33, 7.5),
            ("PWM.ChangeDutyCycle", 33, 0.0),
            ("PWM.stop", 33),
            ("cleanup", 33),
        ]
        assert gpio.calls.count(("cleanup", 33)) == 2


def test_standin_rpi_flavour_pwm_needs_an_output_first_and_backend_does_that():
    gpio = StandinGPIO("rpi")
    with RPiGPIOFactory(gpio, "rpi4") as factory:
        factory.pwm(12, frequency=50, duty_cycle=0.1)
        assert gpio.pwms[12].duty_cycle == 10.0


def test_standin_pull_up_never_reaches_jetson_but_does_reach_pi():
    gpio, factory = jetson()
    with factory:
        pin = factory.pin(16)
        with pytest.raises(PinUsageError, match="external pull-up"):
            pin.pull = "up"
        pin.function = "input"
        assert gpio.pulls[16] is None
    gpio = StandinGPIO("rpi")
    with RPiGPIOFactory(gpio, "rpi4") as factory:
        pin = factory.pin(16)
        pin.pull = "up"
        pin.function = "input"
        assert gpio.pulls[16] == PUD_UP


def test_standin_edges_debounced_in_software_and_double_events_dropped():
    gpio, factory = jetson()
    with factory:
        pin = factory.pin(16)
        pin.function = "input"
        seen = []
        got_two = threading.Event()

        def changed(state, t):
            seen.append(state)
            if len(seen) == 2:
                got_two.set()

        pin.when_changed = changed
        assert gpio.detect[16][0] == BOTH
        assert ("add_event_detect", 16, BOTH, None) in gpio.calls  # no bouncetime: ours
        gpio.double_events = True  # each edge delivered twice, as users report
        gpio.set_level(16, 1)
        assert gpio.wait_idle()  # callbacks read the level when they run, as on the board
        gpio.set_level(16, 0)
        assert got_two.wait(5) and gpio.wait_idle()
        assert seen == [1, 0]


def test_standin_close_removes_event_detect_and_cleans_only_its_channels():
    gpio, factory = jetson()
    foreign = 40
    gpio.setup(foreign, OUT)  # claimed by someone else in this process
    pin = factory.pin(16)
    pin.function = "input"
    pin.edges = "both"
    out = factory.pin(12)
    out.function = "output"
    out.state = 1
    factory.close()
    assert ("remove_event_detect", 16) in gpio.calls
    assert ("output", 12, 0) in gpio.calls  # driven low before release
    assert [c for c in gpio.calls if c[0] == "cleanup"] == [("cleanup", 12), ("cleanup", 16)]
    assert gpio.config == {foreign: OUT}


def test_standin_rpi_add_event_detect_twice_raises_like_rpi_gpio():
    gpio = StandinGPIO("rpi")
    gpio.setmode(BOARD)
    gpio.setup(16, IN)
    gpio.add_event_detect(16, BOTH, callback=print)
    with pytest.raises(RuntimeError, match="Conflicting edge detection"):
        gpio.add_event_detect(16, BOTH, callback=print)


def test_standin_backend_watches_once_whatever_edges_are_set():
    gpio = StandinGPIO("rpi")  # would raise on a second add_event_detect
    with RPiGPIOFactory(gpio, "rpi4") as factory:
        pin = factory.pin(16)
        pin.function = "input"
        pin.edges = "rising"
        pin.edges = "both"
        pin.when_changed = lambda s, t: None
        assert pin.wait_for_edge(timeout=0.01) is False
        assert sum(c[0] == "add_event_detect" for c in gpio.calls) == 1


def test_standin_permission_error_becomes_gpio_group_guidance():
    _gpio, factory = jetson(setup_error=OSError(errno.EACCES, "Permission denied"))
    with factory, pytest.raises(GPIOSetupError) as err:
        factory.pin(12).function = "output"
    message = str(err.value)
    assert "/dev/gpiochip" in message and "usermod -a -G gpio $USER" in message
    assert "99-gpio.rules" in message


def test_standin_pwm_without_pwmchip_explains_pinmux():
    _gpio, factory = jetson(pwm_muxed=False)
    with factory, pytest.raises(GPIOSetupError) as err:
        factory.pwm(33)
    message = str(err.value)
    assert message.startswith("pin 33 on the Jetson Nano dev kit has no PWM controller enabled")
    assert "jetson-io.py" in message and "busybox devmem 0x6000d504 32 0x2" in message


def test_standin_busy_line_is_named():
    gpio = StandinGPIO("rpi", setup_error=RuntimeError("GPIO busy"))
    with RPiGPIOFactory(gpio, "rpi4") as factory, pytest.raises(
        GPIOSetupError, match=r"pin 12 .* held by another process"
    ):
        factory.pin(12).function = "output"
