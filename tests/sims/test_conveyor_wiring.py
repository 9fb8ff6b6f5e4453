"""The cell's wiring file: the bundled Jetson Nano defaults, and one clear error per mistake."""

import copy

import pytest
import yaml

from sims.conveyor.wiring import DEFAULT, WiringError, load_wiring, parse_wiring

with open(DEFAULT) as f:
    BASE = yaml.safe_load(f)


def parse(**changes):
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".")
            data[outer][inner] = value
        elif value is None:
            del data[key]
        else:
            data[key] = value
    return parse_wiring(data, source="cell.yaml")


def test_bundled_wiring_is_the_jetson_nano_build():
    w = load_wiring()
    assert w.board.key == "jetson-nano"
    assert (w.motor.pwm, w.motor.in1, w.motor.in2) == (32, 29, 31)
    assert w.beams == (16, 18, 22) and (w.encoder, w.estop, w.start, w.led) == (15, 37, 11, 12)
    assert [d.channel for d in w.diverters] == [0, 1, 2]
    assert (w.pca9685.bus, w.pca9685.address) == (1, 0x40)
    assert w.servo.extended_deg == 60


def test_a_single_diverter_on_the_gpio_pwm_pin():
    w = parse(diverters=[{"pin": 33}], beams=[16], pca9685=None)
    assert w.diverters[0].pin == 33 and w.diverters[0].channel is None
    assert w.pins()["diverters[0].pin"] == 33


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"motor.pwm": 31},
            "cell.yaml: motor.pwm: pin 31 on the Jetson Nano dev kit (GPIO) has no "
            "hardware PWM; PWM pins: 32, 33",
        ),
        ({"led": 2}, "cell.yaml: led: pin 2 on the Jetson Nano dev kit is 5V power"),
        ({"encoder": 3}, "cell.yaml: encoder: pin 3 on the Jetson Nano dev kit is I2C bus 1 SDA"),
        ({"led": 41}, "cell.yaml: led: there is no pin 41"),
        ({"led": 32}, "cell.yaml: led: pin 32 is already wired to motor.pwm"),
        (
            {"diverters": [{"pin": 18}], "beams": [16]},
            "diverters[0].pin: pin 18 on the Jetson Nano "
            "dev kit (GPIO, SPI1 CS0) has no hardware PWM",
        ),
        (
            {"diverters": [{"pin": 33}], "beams": [33]},
            "diverters[0].pin: pin 33 is already wired to beams[0]",
        ),
        ({"beams": [16, 18]}, "beams: 2 beams for 3 diverters"),
        (
            {"diverters": [{"pca9685": 0}, {"pca9685": 0}, {"pca9685": 2}]},
            "diverters[1].pca9685: channel 0 is already wired to diverters[0]",
        ),
        ({"diverters": [{"pca9685": 16}, {"pca9685": 1}, {"pca9685": 2}]}, "channel 0..15"),
        ({"pca9685": None}, "pca9685: diverters use PCA9685 channels"),
        ({"pca9685": {"address": 0x90}}, "pca9685.address: a 7-bit I2C address"),
        ({"board": "pi9"}, "board: unknown board 'pi9'"),
        ({"moter": {}}, "moter: unknown entry"),
        ({"estop": None}, "estop: missing"),
        ({"motor.in1": "29"}, "motor.in1: a pin is a BOARD pin number"),
        ({"servo": {"speed": 1}}, "servo.speed: unknown"),
    ],
)
def test_mistakes_name_the_file_entry_and_pin(changes, message):
    with pytest.raises(WiringError) as error:
        parse(**changes)
    assert message in str(error.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(WiringError, match=r"cannot read wiring file .*nope\.yaml"):
        load_wiring(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("motor: [\n")
    with pytest.raises(WiringError, match="not valid YAML"):
        load_wiring(str(bad))
