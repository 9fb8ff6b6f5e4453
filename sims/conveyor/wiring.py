"""The wiring description: which pin or PCA9685 channel each part of the cell is wired to.

    wiring = load_wiring()                   # the default, sims/conveyor/wiring.yaml
    wiring = load_wiring("my-cell.yaml")     # checked against hal's board model on load
    wiring.motor.pwm, wiring.beams, wiring.diverters[0].channel

One file serves the app on the board and the simulation. Every mistake is a
:class:`WiringError` naming the file, the entry and the pin, e.g. ``my-cell.yaml: motor.pwm:
pin 31 on the Jetson Nano dev kit (GPIO) has no hardware PWM; PWM pins: 32, 33 ...``.
"""

import collections
import os

import yaml

from hal.boards import PinUsageError, get_board

from .cell import Servo

DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wiring.yaml")

MotorPins = collections.namedtuple("MotorPins", "pwm in1 in2 frequency")
PCA9685Bus = collections.namedtuple("PCA9685Bus", "bus address frequency")
Diverter = collections.namedtuple("Diverter", "channel pin")
Diverter.__doc__ = "A diverter's servo: on PCA9685 ``channel``, or (channel None) on GPIO ``pin``."

_KEYS = (
    "board",
    "motor",
    "encoder",
    "beams",
    "estop",
    "start",
    "led",
    "pca9685",
    "diverters",
    "servo",
)


class WiringError(ValueError):
    """A wiring file is malformed or asks a pin for something it cannot do."""


class Wiring(
    collections.namedtuple(
        "Wiring", "board motor encoder beams estop start led pca9685 diverters servo source"
    )
):
    """A validated wiring description (see the module docstring and wiring.yaml)."""

    __slots__ = ()

    def pins(self):
        """{entry name: BOARD pin} for every GPIO header pin the cell uses."""
        found = collections.OrderedDict(
            [
                ("motor.pwm", self.motor.pwm),
                ("motor.in1", self.motor.in1),
                ("motor.in2", self.motor.in2),
                ("encoder", self.encoder),
            ]
        )
        found.update(("beams[%d]" % i, p) for i, p in enumerate(self.beams))
        found.update([("estop", self.estop), ("start", self.start), ("led", self.led)])
        found.update(
            ("diverters[%d].pin" % i, d.pin)
            for i, d in enumerate(self.diverters)
            if d.pin is not None
        )
        return found


def load_wiring(path=None):
    """Read and validate the wiring file at ``path`` (default: the bundled wiring.yaml)."""
    path = path or DEFAULT
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except OSError as error:
        raise WiringError("cannot read wiring file %s: %s" % (path, error.strerror)) from None
    except yaml.YAMLError as error:
        raise WiringError("wiring file %s is not valid YAML: %s" % (path, error)) from None
    return parse_wiring(data, source=path)


def parse_wiring(data, source="<wiring>"):
    """A :class:`Wiring` from the dict ``data`` (a parsed wiring file), validated."""
    check = _Checker(source)
    if not isinstance(data, dict):
        raise check.error("", "a wiring file is a mapping of entries (board, motor, beams, ...)")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise check.error(unknown[0], "unknown entry; entries are %s" % ", ".join(_KEYS))
    board = check.pick_board(data.get("board", "jetson-nano"))
    motor = check.mapping(data, "motor", ("pwm", "in1", "in2", "frequency"), ("frequency",))
    wiring = Wiring(
        board=board,
        motor=MotorPins(
            check.pin(motor, "motor.pwm", "pwm", pwm=True),
            check.pin(motor, "motor.in1", "in1"),
            check.pin(motor, "motor.in2", "in2"),
            check.number(motor.get("frequency", 1000), "motor.frequency"),
        ),
        encoder=check.pin(data, "encoder", "encoder"),
        beams=tuple(check.pin_list(data, "beams")),
        estop=check.pin(data, "estop", "estop"),
        start=check.pin(data, "start", "start"),
        led=check.pin(data, "led", "led"),
        pca9685=check.pca9685(data.get("pca9685")),
        diverters=tuple(check.diverters(data)),
        servo=check.servo(data.get("servo") or {}),
        source=source,
    )
    if any(d.channel is not None for d in wiring.diverters) and wiring.pca9685 is None:
        raise check.error(
            "pca9685",
            "diverters use PCA9685 channels but no pca9685 entry "
            "says where the board is (bus, address)",
        )
    if len(wiring.beams) != len(wiring.diverters):
        raise check.error(
            "beams",
            "%d beams for %d diverters: wire one beam upstream of each "
            "diverter" % (len(wiring.beams), len(wiring.diverters)),
        )
    check.unique(wiring)
    return wiring


class _Checker:
    def __init__(self, source):
        self.source = source
        self.board = None

    def error(self, entry, message):
        return WiringError("%s: %s%s" % (self.source, entry + ": " if entry else "", message))

    def pick_board(self, name):
        try:
            board = get_board(name)
        except (PinUsageError, KeyError, ValueError) as error:
            raise self.error("board", str(error).strip("'\"")) from None
        self.board = board
        return board

    def mapping(self, data, entry, keys, optional=()):
        value = data.get(entry)
        if not isinstance(value, dict):
            raise self.error(entry, "missing, or not a mapping of %s" % ", ".join(keys))
        for key in keys:
            if key not in value and key not in optional:
                raise self.error("%s.%s" % (entry, key), "missing")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise self.error("%s.%s" % (entry, unknown[0]), "unknown; use %s" % ", ".join(keys))
        return value

    def number(self, value, entry):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise self.error(entry, "must be a positive number, not %r" % (value,))
        return value

    def pin(self, data, entry, key, pwm=False):
        if key not in data:
            raise self.error(entry, "missing: name the BOARD pin it is wired to")
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(entry, "a pin is a BOARD pin number, not %r" % (value,))
        try:
            (self.board.check_pwm if pwm else self.board.check_gpio)(value)
        except PinUsageError as error:
            raise self.error(entry, str(error)) from None
        return value

    def pin_list(self, data, entry):
        values = data.get(entry)
        if not isinstance(values, list) or not values:
            raise self.error(entry, "a list of BOARD pins, one per diverter")
        return [self.pin({entry: v}, "%s[%d]" % (entry, i), entry) for i, v in enumerate(values)]

    def pca9685(self, value):
        if value is None:
            return None
        value = self.mapping(
            {"pca9685": value}, "pca9685", ("bus", "address", "frequency"), ("bus", "frequency")
        )
        address = value["address"]
        if isinstance(address, bool) or not isinstance(address, int) or not 0x03 <= address <= 0x77:
            raise self.error(
                "pca9685.address", "a 7-bit I2C address 0x03..0x77, not %r" % (address,)
            )
        bus = value.get("bus", 1)
        if isinstance(bus, bool) or not isinstance(bus, int) or bus < 0:
            raise self.error("pca9685.bus", "an I2C bus number (/dev/i2c-N), not %r" % (bus,))
        return PCA9685Bus(
            bus, address, self.number(value.get("frequency", 50), "pca9685.frequency")
        )

    def diverters(self, data):
        entries = data.get("diverters")
        if not isinstance(entries, list) or not entries:
            raise self.error("diverters", "a list with one entry per diverter, upstream first")
        for i, d in enumerate(entries):
            entry = "diverters[%d]" % i
            if not isinstance(d, dict) or len(d) != 1 or next(iter(d)) not in ("pca9685", "pin"):
                raise self.error(
                    entry, "one of {pca9685: CHANNEL} or {pin: PWM_PIN}, not %r" % (d,)
                )
            if "pin" in d:
                yield Diverter(None, self.pin(d, entry + ".pin", "pin", pwm=True))
                continue
            channel = d["pca9685"]
            if isinstance(channel, bool) or not isinstance(channel, int) or not 0 <= channel <= 15:
                raise self.error(entry + ".pca9685", "a PCA9685 channel 0..15, not %r" % (channel,))
            yield Diverter(channel, None)

    def servo(self, value):
        if not isinstance(value, dict):
            raise self.error("servo", "a mapping of servo settings")
        fields = Servo.__dataclass_fields__
        unknown = sorted(set(value) - set(fields))
        if unknown:
            raise self.error("servo.%s" % unknown[0], "unknown; use %s" % ", ".join(fields))
        return Servo(**value)

    def unique(self, wiring):
        seen = {}
        for entry, pin in wiring.pins().items():
            if pin in seen:
                raise self.error(entry, "pin %d is already wired to %s" % (pin, seen[pin]))
            seen[pin] = entry
        channels = {}
        for i, d in enumerate(wiring.diverters):
            if d.channel is not None and d.channel in channels:
                raise self.error(
                    "diverters[%d].pca9685" % i,
                    "channel %d is already wired to "
                    "diverters[%d]" % (d.channel, channels[d.channel]),
                )
            channels[d.channel] = i
        if wiring.pca9685 is not None:
            i2c = [
                n for n, p in wiring.board.pins.items() if p.i2c and p.i2c[0] == wiring.pca9685.bus
            ]
            for entry, pin in wiring.pins().items():
                if pin in i2c:
                    raise self.error(
                        entry,
                        "pin %d carries I2C bus %d, which the PCA9685 uses"
                        % (pin, wiring.pca9685.bus),
                    )
