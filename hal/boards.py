"""Board models: what each of the 40 header pins of a supported board is and can do.

A :class:`Board` knows, for every header pin, its name, whether it is a GPIO, its hardware PWM
channel, its I2C/UART/SPI role, power and ground, and its BCM number. The GPIO backends ask it
before touching a pin, so misuse fails the same way on the simulator as on the board, with one
sentence naming the pin and what it can do instead::

    get_board("jetson-nano").check_output(2)
    # PinUsageError: pin 2 on the Jetson Nano dev kit is 5V power; it cannot be an output.
    # GPIO pins: 7, 11, 12, 13, 15, 16, 18, 19, 21, 22, 23, 24, 26, 29, 31, 32, 33, 35, ...

The Jetson GPIO tables and compatible strings mirror Jetson.GPIO's ``gpio_pin_data.py`` (tests
check they agree); :func:`hal.platform.detect` finds which board this is from them.
"""

import collections

__all__ = ["BOARDS", "Board", "HeaderPin", "PinUsageError", "get_board"]


class PinUsageError(ValueError):
    """A pin was asked to do something its board cannot do on it (or it is already in use)."""


# Standard Raspberry Pi header: board pin -> BCM GPIO number, for the 28 signal pins.
_BCM = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24, 19: 10,
    21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 27: 0, 28: 1, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}  # fmt: skip
_POWER = {1: "3.3V", 17: "3.3V", 2: "5V", 4: "5V"}
_GROUND = (6, 9, 14, 20, 25, 30, 34, 39)


class HeaderPin(
    collections.namedtuple(
        "HeaderPin", "number name power bcm gpio pwm i2c uart spi soc_name fixed_pull"
    )
):
    """One header pin.

    ``power`` is "3.3V", "5V" or "GND" for supply pins (None otherwise); ``gpio`` says whether
    user space can drive or read it; ``pwm`` names its hardware PWM channel (None without one);
    ``i2c``, ``uart`` and ``spi`` are ``(bus or device, role)`` pairs or None; ``soc_name`` is
    the Jetson TEGRA_SOC name; ``fixed_pull`` is "up" where the board wires a pull-up resistor.
    """

    __slots__ = ()

    @property
    def functions(self):
        """What the pin can be used for, e.g. ``["GPIO", "PWM (7000a000.pwm channel 0)"]``."""
        if self.power:
            return ["ground" if self.power == "GND" else self.power + " power"]
        found = ["GPIO"] if self.gpio else []
        if self.pwm:
            found.append(f"PWM ({self.pwm})")
        if self.i2c:
            found.append("I2C bus {} {}".format(*self.i2c))
        if self.uart:
            found.append("UART {} {}".format(*self.uart))
        if self.spi:
            found.append("SPI{} {}".format(*self.spi))
        return found

    def describe(self):
        """A short phrase for messages, e.g. "5V power" or "I2C bus 1 SDA"."""
        return ", ".join(self.functions) or "not connected"


class Board:
    """A board's 40-pin header and the rules user space must follow on it."""

    def __init__(self, key, title, pins, pull_configurable, compatible, model, pwm_note=""):
        self.key = key
        self.title = title
        self.pins = collections.OrderedDict((p.number, p) for p in pins)
        self.pull_configurable = pull_configurable
        self.compatible = tuple(compatible)  # /proc/device-tree/compatible entries naming it
        self.model = model  # what /proc/device-tree/model says, where compatible names none
        self.pwm_note = pwm_note  # what must be done before PWM reaches the pins
        self._by_name = {}
        for p in pins:
            for alias in (p.name, p.soc_name):
                if alias:
                    self._by_name[alias.upper()] = p.number
        self._by_bcm = {p.bcm: p.number for p in pins if p.bcm is not None}

    def __repr__(self):
        return f"<Board {self.key}>"

    @property
    def is_jetson(self):
        return self.key.startswith(("jetson", "orin"))

    def gpio_pins(self):
        return [n for n, p in self.pins.items() if p.gpio]

    def pwm_pins(self):
        return [n for n, p in self.pins.items() if p.pwm]

    def header_pin(self, number):
        """The :class:`HeaderPin` with this BOARD number."""
        try:
            return self.pins[int(number)]
        except (KeyError, TypeError, ValueError):
            raise PinUsageError(
                f"there is no pin {number!r} on the {self.title} header; pins are numbered 1 to 40"
            ) from None

    def resolve(self, channel, numbering="BOARD"):
        """The BOARD number of ``channel`` given in ``numbering`` (BOARD, BCM, or a name).

        Names are the Jetson CVM and TEGRA_SOC names (e.g. "GPIO07", "LCD_BL_PW") or the
        Pi's "GPIO18"; they are accepted whatever ``numbering`` says.
        """
        if isinstance(channel, str) and not channel.isdigit():
            key = channel.upper()
            if key in self._by_name:
                return self._by_name[key]
            if key.startswith("GPIO") and key[4:].isdigit() and not self.is_jetson:
                return self.resolve(int(key[4:]), "BCM")
            raise PinUsageError(
                f"the {self.title} has no pin named {channel!r}; use a BOARD number "
                f"(see `python -m hal pinout --board {self.key}`)"
            )
        numbering = numbering.upper()
        if numbering == "BCM":
            try:
                return self._by_bcm[int(channel)]
            except KeyError:
                raise PinUsageError(
                    f"BCM {channel} is not on the {self.title} header; "
                    f"BCM numbers on it: {_listing(sorted(self._by_bcm))}"
                ) from None
        if numbering != "BOARD":
            raise PinUsageError(f"numbering must be 'BOARD' or 'BCM', not {numbering!r}")
        return self.header_pin(channel).number

    # -- rules -------------------------------------------------------------------------------

    def check_gpio(self, number, use="a GPIO"):
        """Raise :class:`PinUsageError` unless pin ``number`` can be a GPIO."""
        pin = self.header_pin(number)
        if not pin.gpio:
            raise PinUsageError(
                f"pin {pin.number} on the {self.title} is {pin.describe()}; it cannot be {use}. "
                f"GPIO pins: {_listing(self.gpio_pins())}"
            )
        return pin

    def check_output(self, number):
        return self.check_gpio(number, "an output")

    def check_input(self, number):
        return self.check_gpio(number, "an input")

    def check_pwm(self, number):
        """Raise :class:`PinUsageError` unless pin ``number`` has hardware PWM."""
        pin = self.header_pin(number)
        if not pin.pwm:
            raise PinUsageError(
                f"pin {pin.number} on the {self.title} ({pin.describe()}) has no hardware PWM; "
                f"PWM pins: {_listing(self.pwm_pins())}"
                + (" (or use a PCA9685 PWM board over I2C)" if self.is_jetson else "")
            )
        return pin

    def check_pull(self, number, pull):
        """Raise :class:`PinUsageError` unless ``pull`` ("up", "down", None) is possible."""
        pin = self.check_input(number)
        if pull not in (None, "up", "down", "floating"):
            raise PinUsageError(f"pull must be 'up', 'down' or None, not {pull!r}")
        if pull in (None, "floating") and not pin.fixed_pull:
            return pin
        if pin.fixed_pull and pull not in (None, pin.fixed_pull):
            raise PinUsageError(
                f"pin {pin.number} on the {self.title} has a fixed pull-{pin.fixed_pull} resistor "
                f"on the board; it cannot be pulled {pull}"
            )
        if not self.pull_configurable and pull not in (None, "floating"):
            rail = "3.3V" if pull == "up" else "GND"
            raise PinUsageError(
                f"pin {pin.number} on the {self.title} cannot be pulled {pull} from user space "
                f"(the {'Jetson' if self.is_jetson else 'board'} ignores pull settings); wire an "
                f"external pull-{pull} resistor (e.g. 10 kOhm to {rail}) and use pull=None"
            )
        return pin


def _listing(numbers):
    return ", ".join(str(n) for n in numbers)


def _header(gpio_rows, extra, gpio_everywhere, fixed_pull=()):
    """Build the 40 HeaderPin rows.

    ``gpio_rows``: (board, name, soc_name, pwm) for pins user space can use as GPIO;
    ``extra``: board -> dict of i2c/uart/spi/name overrides for every signal pin.
    """
    gpio = {row[0]: row for row in gpio_rows}
    pins = []
    for n in range(1, 41):
        info = extra.get(n, {})
        if n in _POWER or n in _GROUND:
            power = _POWER.get(n, "GND")
            pins.append(HeaderPin(n, power, power, None, False, None, None, None, None, None, None))
            continue
        row = gpio.get(n)
        name = row[1] if row else info.get("name", f"GPIO{_BCM[n]}")
        pins.append(
            HeaderPin(
                number=n,
                name=name,
                power=None,
                bcm=_BCM[n],
                gpio=bool(row) or gpio_everywhere,
                pwm=row[3] if row else None,
                i2c=info.get("i2c"),
                uart=info.get("uart"),
                spi=info.get("spi"),
                soc_name=row[2] if row else None,
                fixed_pull="up" if n in fixed_pull else None,
            )
        )
    return pins


def _jetson_extra(i2c_top, i2c_bottom, uart):
    """I2C/UART/SPI roles of the Jetson dev kit headers (same layout on Nano and Orin Nano)."""
    return {
        3: {"name": f"I2C{i2c_top}_SDA", "i2c": (i2c_top, "SDA")},
        5: {"name": f"I2C{i2c_top}_SCL", "i2c": (i2c_top, "SCL")},
        27: {"name": f"I2C{i2c_bottom}_SDA", "i2c": (i2c_bottom, "SDA")},
        28: {"name": f"I2C{i2c_bottom}_SCL", "i2c": (i2c_bottom, "SCL")},
        8: {"name": "UART_TX", "uart": (uart, "TX")},
        10: {"name": "UART_RX", "uart": (uart, "RX")},
        11: {"uart": (uart, "RTS")},
        36: {"uart": (uart, "CTS")},
        19: {"spi": (0, "MOSI")},
        21: {"spi": (0, "MISO")},
        23: {"spi": (0, "SCK")},
        24: {"spi": (0, "CS0")},
        26: {"spi": (0, "CS1")},
        37: {"spi": (1, "MOSI")},
        22: {"spi": (1, "MISO")},
        13: {"spi": (1, "SCK")},
        18: {"spi": (1, "CS0")},
        16: {"spi": (1, "CS1")},
    }


# Jetson.GPIO JETSON_NANO_PIN_DEFS: (BOARD, CVM name, TEGRA_SOC name, PWM chip/channel).
_NANO_GPIO = [
    (7, "GPIO9", "AUD_MCLK", None), (11, "UART1_RTS", "UART2_RTS", None),
    (12, "I2S0_SCLK", "DAP4_SCLK", None), (13, "SPI1_SCK", "SPI2_SCK", None),
    (15, "GPIO12", "LCD_TE", None), (16, "SPI1_CS1", "SPI2_CS1", None),
    (18, "SPI1_CS0", "SPI2_CS0", None), (19, "SPI0_MOSI", "SPI1_MOSI", None),
    (21, "SPI0_MISO", "SPI1_MISO", None), (22, "SPI1_MISO", "SPI2_MISO", None),
    (23, "SPI0_SCK", "SPI1_SCK", None), (24, "SPI0_CS0", "SPI1_CS0", None),
    (26, "SPI0_CS1", "SPI1_CS1", None), (29, "GPIO01", "CAM_AF_EN", None),
    (31, "GPIO11", "GPIO_PZ0", None), (32, "GPIO07", "LCD_BL_PW", "7000a000.pwm channel 0"),
    (33, "GPIO13", "GPIO_PE6", "7000a000.pwm channel 2"), (35, "I2S0_FS", "DAP4_FS", None),
    (36, "UART1_CTS", "UART2_CTS", None), (37, "SPI1_MOSI", "SPI2_MOSI", None),
    (38, "I2S0_DIN", "DAP4_DIN", None), (40, "I2S0_DOUT", "DAP4_DOUT", None),
]  # fmt: skip

# Jetson.GPIO JETSON_ORIN_NX_PIN_DEFS (used for JETSON_ORIN_NANO too).
_ORIN_NANO_GPIO = [
    (7, "GPIO09", "GP167", None), (11, "UART1_RTS", "GP72_UART1_RTS_N", None),
    (12, "I2S0_SCLK", "GP122", None), (13, "SPI1_SCK", "GP36_SPI3_CLK", None),
    (15, "GPIO12", "GP88_PWM1", "3280000.pwm channel 0"),
    (16, "SPI1_CS1", "GP40_SPI3_CS1_N", None), (18, "SPI1_CS0", "GP39_SPI3_CS0_N", None),
    (19, "SPI0_MOSI", "GP49_SPI1_MOSI", None), (21, "SPI0_MISO", "GP48_SPI1_MISO", None),
    (22, "SPI1_MISO", "GP37_SPI3_MISO", None), (23, "SPI0_SCK", "GP47_SPI1_CLK", None),
    (24, "SPI0_CS0", "GP50_SPI1_CS0_N", None), (26, "SPI0_CS1", "GP51_SPI1_CS1_N", None),
    (29, "GPIO01", "GP65", None), (31, "GPIO11", "GP66", None),
    (32, "GPIO07", "GP113_PWM7", "32e0000.pwm channel 0"),
    (33, "GPIO13", "GP115", "32c0000.pwm channel 0"), (35, "I2S0_FS", "GP125", None),
    (36, "UART1_CTS", "GP73_UART1_CTS_N", None), (37, "SPI1_MOSI", "GP38_SPI3_MOSI", None),
    (38, "I2S0_SDIN", "GP124", None), (40, "I2S0_SDOUT", "GP123", None),
]  # fmt: skip

# Raspberry Pi 4: every signal pin is a GPIO; hardware PWM0 on BCM 12/18, PWM1 on BCM 13/19.
_PI_PWM = {12: "PWM0 (BCM 18)", 32: "PWM0 (BCM 12)", 33: "PWM1 (BCM 13)", 35: "PWM1 (BCM 19)"}
_PI_GPIO = [(n, f"GPIO{bcm}", None, _PI_PWM.get(n)) for n, bcm in sorted(_BCM.items())]
_PI_EXTRA = {
    3: {"i2c": (1, "SDA")}, 5: {"i2c": (1, "SCL")},
    27: {"i2c": (0, "SDA (HAT ID EEPROM)")}, 28: {"i2c": (0, "SCL (HAT ID EEPROM)")},
    8: {"uart": ("/dev/serial0", "TX")}, 10: {"uart": ("/dev/serial0", "RX")},
    19: {"spi": (0, "MOSI")}, 21: {"spi": (0, "MISO")}, 23: {"spi": (0, "SCLK")},
    24: {"spi": (0, "CE0")}, 26: {"spi": (0, "CE1")},
    38: {"spi": (1, "MOSI")}, 35: {"spi": (1, "MISO")}, 40: {"spi": (1, "SCLK")},
    12: {"spi": (1, "CE0")}, 11: {"spi": (1, "CE1")}, 36: {"spi": (1, "CE2")},
}  # fmt: skip

_JETSON_PWM_NOTE = (
    "the pinmux must route the PWM controller to the pin first: run `sudo "
    "/opt/nvidia/jetson-io/jetson-io.py`, configure the 40-pin header, enable {}, and reboot"
)

BOARDS = collections.OrderedDict(
    (b.key, b)
    for b in (
        Board(
            "jetson-nano",
            "Jetson Nano dev kit",
            _header(_NANO_GPIO, _jetson_extra(1, 0, "/dev/ttyTHS1"), gpio_everywhere=False),
            pull_configurable=False,
            compatible=("nvidia,p3450-0000", "nvidia,p3450-0002", "nvidia,jetson-nano"),
            model="Jetson Nano",
            pwm_note=_JETSON_PWM_NOTE.format("pwm0 (pin 32) and/or pwm2 (pin 33)")
            + "; or, until the next boot, `sudo busybox devmem 0x700031fc 32 0x45; sudo busybox "
            "devmem 0x6000d504 32 0x2` (pin 32) and `sudo busybox devmem 0x70003248 32 0x46; "
            "sudo busybox devmem 0x6000d100 32 0x00` (pin 33)",
        ),
        Board(
            "orin-nano",
            "Jetson Orin Nano dev kit",
            _header(_ORIN_NANO_GPIO, _jetson_extra(7, 1, "/dev/ttyTHS0"), gpio_everywhere=False),
            pull_configurable=False,
            compatible=tuple(  # the -super modules run JetPack 6.1's Super mode
                f"nvidia,{carrier}+p3767-{module}{super_}"
                for carrier in ("p3509-0000", "p3768-0000")
                for module in ("0003", "0004", "0005")
                for super_ in ("", "-super")
            ),
            model="Orin Nano",
            pwm_note=_JETSON_PWM_NOTE.format("pwm1 (pin 15), pwm7 (pin 32) and/or pwm5 (pin 33)"),
        ),
        Board(
            "rpi4",
            "Raspberry Pi 4",
            _header(_PI_GPIO, _PI_EXTRA, gpio_everywhere=True, fixed_pull=(3, 5)),
            pull_configurable=True,
            compatible=("raspberrypi,4-model-b", "brcm,bcm2711"),
            model="Raspberry Pi 4",
            pwm_note="enable the hardware PWM overlay: add `dtoverlay=pwm-2chan` to "
            "/boot/config.txt and reboot",
        ),
    )
)

_ALIASES = {"nano": "jetson-nano", "jetson-orin-nano": "orin-nano", "pi4": "rpi4", "rpi": "rpi4"}


def get_board(board):
    """The :class:`Board` called ``board`` (a key of :data:`BOARDS`), or ``board`` itself."""
    if isinstance(board, Board):
        return board
    key = _ALIASES.get(str(board).lower(), str(board).lower())
    try:
        return BOARDS[key]
    except KeyError:
        raise PinUsageError(
            "unknown board {!r}; supported boards: {}".format(board, ", ".join(BOARDS))
        ) from None
