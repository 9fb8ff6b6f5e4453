"""``doctor``: check a board for what robot builders trip on, one line per check with the fix.

    python -m hal.doctor                 # or: nanobot hal doctor
    python -m hal.doctor --i2c-bus 1 --probe 0x40 --probe 0x60

Each check reports ok, warn, fail or n/a (does not apply to this machine), what it found, and
what to do. The exit status is 1 if any check failed. Everything the checks look at goes
through a :class:`Host`, so tests describe a Jetson with files in a directory.
"""

import argparse
import collections
import glob
import importlib
import os
import re
import shutil
import subprocess
import sys

from .boards import get_board
from .gpio.guidance import GPIO_GROUP_FIX
from .i2c import open_bus
from .platform import detect

OK, WARN, FAIL, NA = "ok", "warn", "fail", "n/a"

Check = collections.namedtuple("Check", "name status found fix")
Check.__doc__ = """One check's result: status is ok, warn, fail or n/a; fix is '' when none."""

# Jetson Nano hardware PWM pins: (board pin, pinmux register, function, GPIO CNF register, bit).
# From the devmem commands in Jetson.GPIO's README: 0x45 selects PWM0 on pin 32, 0x46 PWM2 on
# pin 33, and clearing the pin's bit in the GPIO controller's CNF register hands it to the PWM.
# The fix is the board model's own PWM note (jetson-io, or those devmem writes).
_NANO_PWM_PINS = ((32, 0x700031FC, 1, 0x6000D504, 0), (33, 0x70003248, 2, 0x6000D100, 6))
_JETPACK_PYTHON = {"4": (3, 6), "5": (3, 8), "6": (3, 10)}  # the Python JetPack's bindings use
_GROUP_FIX = (
    "add yourself to the {group} group and log in again: sudo groupadd -f -r {group}; "
    "sudo usermod -aG {group} $USER"
)


class Host:
    """The machine under examination: files below ``root``, commands, imports, permissions.

    Every argument replaces one way of looking, for tests: ``run(argv) -> (returncode, output)``
    runs a command, ``which(name)`` finds one, ``import_module(name)`` imports, ``access(path,
    mode)`` checks a permission, ``euid`` is the effective user id.
    """

    def __init__(self, root="/", run=None, which=shutil.which, import_module=None,
                 access=os.access, euid=None, python=None):  # fmt: skip
        self.root = root
        self.run = run or _run
        self.which = which
        self.import_module = import_module or importlib.import_module
        self.access = access
        self.euid = os.geteuid() if euid is None else euid
        self.python = python or (sys.version.split()[0], sys.executable)

    def path(self, path):
        """``path`` (absolute, as on the board) below this host's root."""
        return os.path.join(self.root, path.lstrip("/"))

    def glob(self, pattern):
        """Absolute paths (as on the board) matching ``pattern``, sorted."""
        prefix = self.path("/")
        return sorted("/" + p[len(prefix) :] for p in glob.glob(self.path(pattern)))

    def can_read_write(self, path):
        return self.access(self.path(path), os.R_OK | os.W_OK)

    def imports(self, name):
        """(module, None) if ``name`` imports, else (None, one line saying why not)."""
        try:
            return self.import_module(name), None
        except Exception as error:  # a board's modules fail in many ways (RuntimeError, ...)
            return None, f"{type(error).__name__}: {error}".splitlines()[0]


def run_checks(host=None, i2c_bus=1, probe=(0x40, 0x60), open_bus=open_bus):
    """Run every check on ``host`` (this machine by default); returns a list of :class:`Check`.

    ``probe`` lists I2C addresses to read on ``i2c_bus`` (read-only: register 0 of each);
    ``open_bus(number)`` opens a bus for the probe.
    """
    host = host or Host()
    board = detect(host.root)
    checks = [
        check_board(host, board),
        check_python(host, board),
        check_gpio_module(host, board),
        check_gpiochip(host, board),
        check_pwm_pinmux(host, board),
        check_gstreamer(host, board),
        check_pygobject(host, board),
        check_nvarguscamerasrc(host, board),
        check_nvargus_daemon(host, board),
        check_cameras(host, board),
        check_i2c_buses(host, board),
        check_i2c_devices(host, board, i2c_bus, probe, open_bus),
        check_opencv(host, board),
    ]
    return checks


def format_check(check):
    """One line: status, name, what was found, and the fix after an arrow."""
    line = f"{check.status:<4}  {check.name:<17} {check.found}"
    return f"{line}  -> {check.fix}" if check.fix else line


# -- the checks, in the order they print --------------------------------------------------


def check_board(host, board):
    if board.is_jetson:
        versions = f"L4T {board.l4t or '?'}, JetPack {board.jetpack or '?'}"
        found = f"{board.model or 'Jetson (model unknown)'} ({versions})"
        if board.l4t is None:
            return Check("board", WARN, found, "/etc/nv_tegra_release missing: reflash JetPack")
        return Check("board", OK, found, "")
    if board.is_raspberry_pi:
        return Check("board", OK, board.model or "Raspberry Pi", "")
    return Check(
        "board",
        NA,
        "not a Jetson or Raspberry Pi (no device tree naming one): the board checks below "
        "do not apply; the sim backends do",
        "",
    )


def check_python(host, board):
    version, executable = host.python
    found = f"Python {version} ({executable})"
    wanted = _JETPACK_PYTHON.get((board.jetpack or "")[:1])
    if wanted and tuple(int(n) for n in version.split(".")[:2]) != wanted:
        system = "{}.{}".format(*wanted)
        return Check(
            "python", WARN, found,
            f"JetPack's TensorRT, cv2 and gi bindings are built for Python {system}: use "
            f"python{system} (venvs with --system-site-packages)",
        )  # fmt: skip
    return Check("python", OK, found, "")


def check_gpio_module(host, board):
    name = _gpio_module_name(board)
    if name is None:
        return _not_here("gpio module")
    module, why = host.imports(name)
    if module is None:
        package = "Jetson.GPIO" if board.is_jetson else "RPi.GPIO (or rpi-lgpio)"
        return Check(
            "gpio module", FAIL, f"import {name} failed ({why})",
            f"pip install {package}; if it says permission denied, see the gpiochip check",
        )  # fmt: skip
    version = getattr(module, "VERSION", "") or getattr(module, "__version__", "")
    return Check("gpio module", OK, f"{name} {version}".strip(), "")


def check_gpiochip(host, board):
    if not (board.is_jetson or board.is_raspberry_pi):
        return _not_here("gpiochip")
    chips = host.glob("/dev/gpiochip*")
    if not chips:
        return Check("gpiochip", FAIL, "no /dev/gpiochip*", "the GPIO driver is not loaded")
    denied = [c for c in chips if not host.can_read_write(c)]
    if denied:
        return Check(
            "gpiochip", FAIL, f"no read/write permission on {', '.join(denied)}",
            GPIO_GROUP_FIX if board.is_jetson else _GROUP_FIX.format(group="gpio"),
        )  # fmt: skip
    return Check("gpiochip", OK, f"{', '.join(chips)} readable and writable", "")


def check_pwm_pinmux(host, board):
    if board.name != "jetson-nano":
        return _not_here("pwm pinmux", "only the Jetson Nano's pins 32/33 need this")
    how = get_board(board.name).pwm_note
    if host.euid != 0 or not host.which("busybox"):
        return Check(
            "pwm pinmux", WARN,
            "not read: reading the pinmux needs root and busybox (sudo python -m hal.doctor); "
            f"by hand: sudo busybox devmem 0x{_NANO_PWM_PINS[0][1]:08x} shows 0x45 when pin 32 "
            "is PWM",
            how,
        )  # fmt: skip
    states, unmuxed = [], []
    for pin, mux, func, cnf, bit in _NANO_PWM_PINS:
        mux_value, cnf_value = _devmem(host, mux), _devmem(host, cnf)
        if mux_value is None or cnf_value is None:
            return Check("pwm pinmux", WARN, "busybox devmem could not read the pinmux", how)
        muxed = mux_value & 0x3 == func and not mux_value & 0x10 and not cnf_value >> bit & 1
        states.append(f"pin {pin} {'PWM' if muxed else 'not PWM'} (pinmux 0x{mux_value:02x})")
        if not muxed:
            unmuxed.append(pin)
    return Check("pwm pinmux", WARN if unmuxed else OK, ", ".join(states), how if unmuxed else "")


def check_gstreamer(host, board):
    tool = host.which("gst-inspect-1.0")
    if tool:
        code, output = host.run([tool, "--version"])
        version = output.splitlines()[0] if code == 0 and output else "version unknown"
        return Check("gstreamer", OK, version, "")
    status = FAIL if board.is_jetson else WARN
    return Check(
        "gstreamer", status, "gst-inspect-1.0 not found",
        "sudo apt install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good",
    )  # fmt: skip


def check_pygobject(host, board):
    gi, why = host.imports("gi")
    if gi is not None:
        try:
            gi.require_version("Gst", "1.0")
            gst = host.import_module("gi.repository.Gst")
            return Check("gi (PyGObject)", OK, f"Gst {gst.version_string()}", "")
        except Exception as error:
            why = f"{type(error).__name__}: {error}"
    fix = (
        "sudo apt install python3-gi gir1.2-gstreamer-1.0 (use a venv with "
        "--system-site-packages), or pip install PyGObject"
    )
    return Check("gi (PyGObject)", WARN, f"GStreamer not importable from Python ({why})", fix)


def check_nvarguscamerasrc(host, board):
    if not board.is_jetson:
        return _not_here("nvarguscamerasrc", "CSI cameras through Argus are Jetson only")
    tool = host.which("gst-inspect-1.0")
    if tool and host.run([tool, "nvarguscamerasrc"])[0] == 0:
        return Check("nvarguscamerasrc", OK, "GStreamer element present", "")
    return Check(
        "nvarguscamerasrc", FAIL, "GStreamer element missing",
        "install JetPack's multimedia packages: sudo apt install nvidia-l4t-gstreamer",
    )  # fmt: skip


def check_nvargus_daemon(host, board):
    if not board.is_jetson:
        return _not_here("nvargus-daemon", "Jetson only")
    running = False
    if host.which("systemctl"):
        code, output = host.run(["systemctl", "is-active", "nvargus-daemon"])
        running = code == 0 and output.strip() == "active"
    if not running:  # no systemd (a container): look for the process
        running = any(
            _read(host, path).strip() == "nvargus-daemon" for path in host.glob("/proc/*/comm")
        )
    if running:
        return Check("nvargus-daemon", OK, "running", "")
    return Check(
        "nvargus-daemon", FAIL, "not running",
        "sudo systemctl restart nvargus-daemon (also the fix for 'Failed to create "
        "CaptureSession')",
    )  # fmt: skip


def check_cameras(host, board):
    devices = host.glob("/dev/video*")
    if devices:
        return Check("cameras", OK, ", ".join(devices), "")
    fix = "connect a USB camera, or a CSI camera with the power off (ribbon contacts toward "
    fix += "the board's heatsink on a Nano), then check dmesg | grep -i imx"
    if not (board.is_jetson or board.is_raspberry_pi):
        return Check("cameras", NA, "no /dev/video*", "")
    return Check("cameras", WARN, "no /dev/video*", fix)


def check_i2c_buses(host, board):
    buses = host.glob("/dev/i2c-*")
    if not buses:
        if not (board.is_jetson or board.is_raspberry_pi):
            return _not_here("i2c buses")
        fix = "sudo modprobe i2c-dev"
        if board.is_raspberry_pi:
            fix = "sudo raspi-config nonint do_i2c 0, then reboot"
        return Check("i2c buses", FAIL, "no /dev/i2c-*", fix)
    denied = [b for b in buses if not host.can_read_write(b)]
    if denied:
        return Check(
            "i2c buses", FAIL, f"no read/write permission on {', '.join(denied)}",
            _GROUP_FIX.format(group="i2c"),
        )  # fmt: skip
    return Check("i2c buses", OK, ", ".join(buses), "")


def check_i2c_devices(host, board, bus_number, addresses, open_bus):
    if not addresses:
        return Check("i2c devices", NA, "probe disabled", "")
    if not host.glob(f"/dev/i2c-{bus_number}"):
        if not (board.is_jetson or board.is_raspberry_pi):
            return _not_here("i2c devices")
        return Check("i2c devices", FAIL, f"I2C bus {bus_number} does not exist", "")
    try:
        bus = open_bus(bus_number)
    except (OSError, ImportError) as error:
        return Check("i2c devices", FAIL, f"cannot open I2C bus {bus_number}", str(error))
    answered = []
    with bus:
        for address in addresses:
            try:
                bus.read_byte_data(address, 0x00)
                answered.append(address)
            except OSError:
                pass
    found = ", ".join(f"0x{a:02x} {'answers' if a in answered else 'no answer'}" for a in addresses)
    found = f"bus {bus_number}: {found} (0x40: PCA9685 default, 0x60: JetBot MotorHAT)"
    if answered:
        return Check("i2c devices", OK, found, "")
    return Check(
        "i2c devices", WARN, found,
        f"if a board should answer, check SDA pin 3, SCL pin 5, 3.3 V and GND, the address "
        f"jumpers, and run i2cdetect -y -r {bus_number}",
    )  # fmt: skip


def check_opencv(host, board):
    cv2, why = host.imports("cv2")
    if cv2 is None:
        return Check(
            "opencv", WARN if board.is_jetson else NA, f"cv2 not importable ({why})",
            "on JetPack use the system's cv2 (venv with --system-site-packages); elsewhere pip "
            "install opencv-python-headless",
        )  # fmt: skip
    match = re.search(r"GStreamer:\s*(\w+)", cv2.getBuildInformation())
    gstreamer = bool(match) and match.group(1).upper() == "YES"
    found = (
        f"cv2 {cv2.__version__} from {os.path.dirname(getattr(cv2, '__file__', '?'))}, "
        f"GStreamer: {'YES' if gstreamer else 'NO'}"
    )
    if board.is_jetson and not gstreamer:
        return Check(
            "opencv", WARN, found + " (a pip wheel shadowing JetPack's cv2)",
            "pip uninstall opencv-python opencv-python-headless to get JetPack's GStreamer "
            "build back (csi:// cameras work through gi either way)",
        )  # fmt: skip
    return Check("opencv", OK, found, "")


# -- helpers ------------------------------------------------------------------------------


def _not_here(name, why="not a Jetson or Raspberry Pi"):
    return Check(name, NA, why, "")


def _gpio_module_name(board):
    if board.is_jetson:
        return "Jetson.GPIO"
    if board.is_raspberry_pi:
        return "RPi.GPIO"
    return None


def _devmem(host, address):
    code, output = host.run(["busybox", "devmem", f"0x{address:08x}", "32"])
    try:
        return int(output.strip(), 16) if code == 0 else None
    except ValueError:
        return None


def _read(host, path):
    try:
        with open(host.path(path)) as f:
            return f.read()
    except OSError:
        return ""


def _run(argv):
    try:
        done = subprocess.run(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10,
            universal_newlines=True,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return 127, str(error)
    return done.returncode, done.stdout


def main(argv=None, host=None, out=None):
    """Command line: print one line per check; exit status 1 if any check failed."""
    parser = argparse.ArgumentParser(
        prog="doctor", description="Check this board for what robot builders trip on."
    )
    parser.add_argument("--i2c-bus", type=int, default=1, help="bus to probe (default 1)")
    parser.add_argument(
        "--probe", metavar="ADDR", action="append", type=lambda s: int(s, 0),
        help="I2C address to probe, repeatable (default 0x40 and 0x60)",
    )  # fmt: skip
    parser.add_argument("--no-probe", action="store_true", help="do not touch the I2C bus")
    args = parser.parse_args(argv)
    probe = () if args.no_probe else tuple(args.probe or (0x40, 0x60))
    out = out or sys.stdout
    checks = run_checks(host, i2c_bus=args.i2c_bus, probe=probe)
    for check in checks:
        print(format_check(check), file=out)
    return 1 if any(c.status == FAIL for c in checks) else 0


if __name__ == "__main__":
    sys.exit(main())
