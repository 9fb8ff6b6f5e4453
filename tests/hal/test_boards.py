"""Board models: every header pin, the rules, and the messages users read."""

import pytest

from hal.boards import BOARDS, PinUsageError, get_board

NANO_GPIO = [7, 11, 12, 13, 15, 16, 18, 19, 21, 22, 23, 24, 26, 29, 31, 32, 33, 35, 36, 37, 38, 40]


@pytest.mark.parametrize("key", list(BOARDS))
def test_every_board_describes_all_40_pins_with_pi_power_layout(key):
    board = BOARDS[key]
    assert list(board.pins) == list(range(1, 41))
    power = {n: p.power for n, p in board.pins.items() if p.power}
    assert power == {
        1: "3.3V", 17: "3.3V", 2: "5V", 4: "5V",
        6: "GND", 9: "GND", 14: "GND", 20: "GND", 25: "GND", 30: "GND", 34: "GND", 39: "GND",
    }  # fmt: skip
    assert all(p.functions for p in board.pins.values())


def test_jetson_nano_gpio_pwm_i2c_uart_spi():
    nano = get_board("jetson-nano")
    assert nano.gpio_pins() == NANO_GPIO
    assert nano.pwm_pins() == [32, 33]
    assert nano.pins[3].i2c == (1, "SDA") and nano.pins[5].i2c == (1, "SCL")
    assert nano.pins[27].i2c == (0, "SDA") and nano.pins[28].i2c == (0, "SCL")
    assert nano.pins[8].uart == ("/dev/ttyTHS1", "TX") and nano.pins[10].uart[1] == "RX"
    assert [n for n, p in nano.pins.items() if p.spi and p.spi[0] == 0] == [19, 21, 23, 24, 26]
    assert not nano.pull_configurable


def test_orin_nano_pwm_pins_follow_jetson_gpio_data():
    orin = get_board("orin-nano")
    assert orin.gpio_pins() == NANO_GPIO
    assert orin.pwm_pins() == [15, 32, 33]
    assert orin.pins[3].i2c == (7, "SDA") and orin.pins[27].i2c == (1, "SDA")


def test_pi4_every_signal_pin_is_gpio_with_four_hardware_pwm_pins():
    pi = get_board("rpi4")
    assert len(pi.gpio_pins()) == 28
    assert pi.pwm_pins() == [12, 32, 33, 35]
    assert pi.pull_configurable
    assert pi.pins[3].fixed_pull == "up"


@pytest.mark.parametrize(
    "board, channel, numbering, expected",
    [
        ("jetson-nano", 18, "BCM", 12),
        ("jetson-nano", 12, "BOARD", 12),
        ("jetson-nano", "GPIO07", "BOARD", 32),
        ("jetson-nano", "lcd_bl_pw", "BOARD", 32),  # TEGRA_SOC name, any case
        ("orin-nano", "GP115", "BOARD", 33),
        ("rpi4", "GPIO18", "BOARD", 12),
        ("rpi4", 2, "BCM", 3),
    ],
)
def test_resolve_board_bcm_and_names(board, channel, numbering, expected):
    assert get_board(board).resolve(channel, numbering) == expected


def test_power_pin_message_names_the_pin_and_the_gpio_pins():
    with pytest.raises(PinUsageError) as err:
        get_board("jetson-nano").check_output(2)
    assert str(err.value) == (
        "pin 2 on the Jetson Nano dev kit is 5V power; it cannot be an output. GPIO pins: "
        + ", ".join(map(str, NANO_GPIO))
    )


def test_i2c_pin_is_not_a_gpio_on_jetson():
    with pytest.raises(PinUsageError, match=r"pin 3 on the Jetson Nano dev kit is I2C bus 1 SDA"):
        get_board("jetson-nano").check_input(3)


def test_pwm_on_a_pin_without_pwm_lists_pwm_pins_and_pca9685():
    with pytest.raises(PinUsageError) as err:
        get_board("jetson-nano").check_pwm(12)
    assert "pin 12" in str(err.value) and "PWM pins: 32, 33" in str(err.value)
    assert "PCA9685" in str(err.value)


def test_pull_up_on_jetson_asks_for_an_external_resistor():
    with pytest.raises(PinUsageError, match=r"pin 16 .* external pull-up resistor"):
        get_board("jetson-nano").check_pull(16, "up")
    assert get_board("jetson-nano").check_pull(16, None).number == 16


def test_pi_pulls_allowed_except_against_fixed_i2c_pull_ups():
    pi = get_board("rpi4")
    assert pi.check_pull(16, "down").number == 16
    with pytest.raises(PinUsageError, match="fixed pull-up"):
        pi.check_pull(3, "down")


def test_unknown_pin_bcm_name_and_board_are_clear_errors():
    nano = get_board("jetson-nano")
    with pytest.raises(PinUsageError, match="numbered 1 to 40"):
        nano.header_pin(41)
    with pytest.raises(PinUsageError, match="BCM 30 is not on"):
        nano.resolve(30, "BCM")
    with pytest.raises(PinUsageError, match="no pin named 'NOPE'"):
        nano.resolve("NOPE")
    with pytest.raises(PinUsageError, match="supported boards: jetson-nano, orin-nano, rpi4"):
        get_board("xavier")
