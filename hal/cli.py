"""``python -m hal``: pinout, selftest (bench-test wiring) and doctor (board checks).

python -m hal pinout --board orin-nano
python -m hal selftest --out 12 --in 16      # jumper 12 -> 16 first; on the board's backend
python -m hal doctor
"""

import argparse
import logging
import sys
import time

from hal.boards import BOARDS, PinUsageError, get_board
from hal.gpio import GPIOSetupError, get_factory
from hal.platform import detect

__all__ = ["main", "pinout_table"]


def pinout_table(board, uses=None):
    """The 40-pin header of ``board`` as text, two columns as on the physical header.

    ``uses`` ({BOARD pin: what uses it}) marks the pins a build or a graph uses.
    """
    board = get_board(board)
    uses = uses or {}
    for number in uses:
        if number not in board.pins:
            raise PinUsageError(f"pin {number} is not on the {board.title}'s 40-pin header")
    lines = [f"{board.title} 40-pin header (BOARD numbering; BCM in brackets)", ""]

    def what(n):
        return f"[{uses[n]}] {board.pins[n].describe()}" if n in uses else board.pins[n].describe()

    width = max(36, *(len(what(n)) for n in range(1, 41, 2)))
    for odd in range(1, 41, 2):
        left, right = board.pins[odd], board.pins[odd + 1]
        lines.append(
            f"{what(odd):>{width}} {left.name:>12} {_bcm(left):>5} {odd:2d} | "
            f"{odd + 1:<2d} {_bcm(right):<5} {right.name:<12} {what(odd + 1)}"
        )
    lines += ["", "PWM pins: {}; {}".format(", ".join(map(str, board.pwm_pins())), board.pwm_note)]
    if not board.pull_configurable:
        lines.append("Pull-up/down resistors cannot be set from user space: wire external ones.")
    return "\n".join(lines)


def _bcm(pin):
    return f"({pin.bcm})" if pin.gpio and pin.bcm is not None else ""


def _pinout(args):
    board = args.board or detect().name or "jetson-nano"
    uses = {}
    for item in args.use:
        number, eq, label = item.partition("=")
        if not eq or not number.strip().isdigit():
            print(
                f"error: --use {item!r} must be written PIN=LABEL, e.g. 32=motor", file=sys.stderr
            )
            return 2
        uses[int(number)] = label
    print(pinout_table(board, uses))
    return 0


def _selftest(args):
    if not (args.outputs or args.pwm):
        print("selftest: give at least one --out or --pwm pin (see --help)")
        return 2
    with get_factory(args.backend, board=args.board) as factory:
        print(f"selftest on the {factory.backend} backend, {factory.board.title}")
        outs = [factory.pin(n) for n in args.outputs]
        ins = [factory.pin(n) for n in args.inputs]
        for pin in outs:
            pin.function = "output"
        for pin in ins:
            pin.function = "input"
        if factory.backend == "sim":  # nothing is wired in the simulator: jumper in order
            print("(sim: each --in is wired to the --out at the same position)")
            for out, inp in zip(outs, ins):
                out.line.subscribe(
                    lambda c, line=inp.line: c.kind == "state" and line.drive(c.value)
                )
        failures = _toggle(outs, ins, args.cycles, args.period)
        for number in args.pwm:
            pin = factory.pwm(number, frequency=50.0, duty_cycle=0.075)
            print(f"pin {number}: PWM 50 Hz, duty 7.5% (servo centre) for {args.period:g} s")
            time.sleep(args.period)
            pin.close()
    print("selftest: " + (f"{failures} check(s) failed" if failures else "all good"))
    return 1 if failures else 0


def _toggle(outs, ins, cycles, period):
    """Toggle each output; the --in at the same position must follow it. Returns failures."""
    failures = 0
    for i, out in enumerate(outs):
        partner = ins[i] if i < len(ins) else None
        agreed = 0
        for level in [1, 0] * cycles:
            out.state = level
            time.sleep(period / 2.0)
            agreed += partner is not None and partner.state == level
        if partner is None:
            print(
                f"pin {out.number}: toggled {cycles} times (no --in paired: watch it with an LED)"
            )
            continue
        follows = agreed == 2 * cycles
        failures += not follows
        verdict = "ok" if follows else "NOT CONNECTED?"
        reads = f"{agreed} of {2 * cycles} reads agreed"
        print(f"pin {out.number} -> pin {partner.number}: {verdict} ({reads})")
    return failures


def _doctor(args):
    from hal import doctor

    return doctor.main(args.rest)


def _parser(prog):
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    boards = sorted(BOARDS)

    p = sub.add_parser("pinout", help="print a board's 40-pin header")
    p.add_argument("--board", choices=boards, help="default: the detected board, else jetson-nano")
    p.add_argument("--use", action="append", default=[], metavar="PIN=LABEL",
                   help="mark a pin as used (repeatable)")  # fmt: skip
    p.set_defaults(run=_pinout)

    p = sub.add_parser("selftest", help="toggle outputs and read inputs to check wiring")
    p.add_argument("--out", dest="outputs", type=int, action="append", default=[], metavar="PIN")
    p.add_argument(
        "--in",
        dest="inputs",
        type=int,
        action="append",
        default=[],
        metavar="PIN",
        help="an input wired to the --out at the same position",
    )
    p.add_argument("--pwm", type=int, action="append", default=[], metavar="PIN")
    p.add_argument("--backend", choices=["sim", "jetson", "rpi", "auto"], default=None)
    p.add_argument("--board", choices=boards)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--period", type=float, default=0.2, help="seconds per on/off cycle")
    p.set_defaults(run=_selftest)

    p = sub.add_parser("doctor", help="check the board setup (permissions, pinmux, cameras)")
    p.set_defaults(run=_doctor)  # its own arguments go to hal.doctor.main
    return parser


def main(argv=None, prog="python -m hal"):
    parser = _parser(prog)
    args, rest = parser.parse_known_args(argv)
    if rest and getattr(args, "run", None) is not _doctor:
        parser.error("unrecognized arguments: {}".format(" ".join(rest)))
    args.rest = rest
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        return args.run(args)
    except (PinUsageError, GPIOSetupError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
