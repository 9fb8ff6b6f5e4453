"""python -m apps.sorter.header [WIRING]: the board's 40-pin header with the cell's wiring
drawn on it, from the wiring file (what docs/sorter.md shows for the shipped one)."""

import os
import sys

from hal.boards import get_board
from sims.conveyor.wiring import load_wiring


def uses(wiring):
    """{BOARD pin: what the cell wires to it}."""
    labels = {
        "motor.pwm": "motor PWM (H-bridge EN)",
        "motor.in1": "motor IN1",
        "motor.in2": "motor IN2",
        "encoder": "encoder",
        "estop": "e-stop (NC to GND)",
        "start": "start button",
        "led": "status LED",
    }
    out = {}
    for entry, pin in wiring.pins().items():
        if entry.startswith("beams["):
            label = "break-beam %s" % entry[6:-1]
        elif entry.startswith("diverters["):
            label = "diverter %s servo" % entry[10:-5]
        else:
            label = labels.get(entry, entry)
        out[pin] = label
    if wiring.pca9685 is not None:
        board = get_board(wiring.board.key)
        for number, pin in board.pins.items():
            if pin.i2c and str(pin.i2c[0]) == str(wiring.pca9685.bus):
                out[number] = "PCA9685 %s (0x%02x)" % (pin.i2c[1], wiring.pca9685.address)
    return out


def diagram(wiring):
    """The header as text: odd pins left, even pins right, the cell's use beside each."""
    board = get_board(wiring.board.key)
    used = uses(wiring)
    lines = [
        "%s header (BOARD numbering), wired as %s" % (board.title, os.path.basename(wiring.source))
    ]

    def name(number):
        pin = board.pins[number]
        return pin.power or pin.name or ""

    for odd in range(1, 41, 2):
        even = odd + 1
        lines.append(
            "%26s %9s %2d o o %-2d %-9s %s"
            % (used.get(odd, ""), name(odd), odd, even, name(even), used.get(even, ""))
        )
    return "\n".join(line.rstrip() for line in lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    print(diagram(load_wiring(argv[0] if argv else None)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
