"""The board doctor, on a Jetson Nano described by files in a directory and faked commands."""

import io
import types

import pytest

from hal import doctor
from hal.doctor import FAIL, NA, OK, WARN, Host, run_checks
from hal.i2c import SimI2CBus
from hal.pca9685 import SimPCA9685

NANO_COMPATIBLE = "nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0"
NANO_RELEASE = "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64\n"
PINMUX_OK = {0x700031FC: 0x45, 0x6000D504: 0x2, 0x70003248: 0x46, 0x6000D100: 0x0}


def fake_cv2(gstreamer, path="/usr/lib/python3.6/dist-packages/cv2/python-3.6/cv2.so"):
    info = f"General configuration for OpenCV 4.1.1\n  Video I/O:\n    GStreamer:     {gstreamer}\n"
    return types.SimpleNamespace(
        __version__="4.1.1", __file__=path, getBuildInformation=lambda: info
    )


class FakeJetson:
    """Files of a Jetson Nano below a tmp dir, plus the commands and modules it would have."""

    def __init__(self, root):
        self.root = root
        self.files(
            {
                "proc/device-tree/compatible": NANO_COMPATIBLE,
                "proc/device-tree/model": "NVIDIA Jetson Nano Developer Kit\0",
                "etc/nv_tegra_release": NANO_RELEASE,
                "dev/gpiochip0": "",
                "dev/gpiochip1": "",
                "dev/video0": "",
                "dev/i2c-0": "",
                "dev/i2c-1": "",
                "proc/1/comm": "systemd\n",
                "proc/4242/comm": "nvargus-daemon\n",
            }
        )
        self.commands = {
            ("gst-inspect-1.0", "--version"): (0, "gst-inspect-1.0 version 1.14.5\n"),
            ("gst-inspect-1.0", "nvarguscamerasrc"): (0, "Factory Details: ..."),
            ("systemctl", "is-active", "nvargus-daemon"): (0, "active\n"),
        }
        self.commands.update(
            {("busybox", "devmem", f"0x{a:08x}", "32"): (0, f"0x{v:08X}\n")
             for a, v in PINMUX_OK.items()}
        )  # fmt: skip
        self.tools = {"gst-inspect-1.0", "systemctl", "busybox"}
        gst = types.SimpleNamespace(version_string=lambda: "GStreamer 1.14.5")
        gi = types.SimpleNamespace(require_version=lambda name, version: None)
        self.modules = {
            "Jetson.GPIO": types.SimpleNamespace(VERSION="2.1.7"),
            "gi": gi,
            "gi.repository.Gst": gst,
            "cv2": fake_cv2("YES (1.14.5)"),
        }
        self.denied = set()
        self.euid = 0
        self.python = ("3.6.9", "/usr/bin/python3")
        self.i2c = SimI2CBus(1)
        self.i2c.attach(0x40, SimPCA9685())

    def files(self, contents):
        for path, text in contents.items():
            full = self.root / path
            full.parent.mkdir(parents=True, exist_ok=True)
            full.write_text(text)

    def remove(self, *paths):
        for path in paths:
            (self.root / path).unlink()

    def host(self):
        def run(argv):
            return self.commands.get(tuple(argv), (1, "not found"))

        def import_module(name):
            if self.modules.get(name) is None:
                raise ImportError(f"No module named '{name}'")
            return self.modules[name]

        return Host(
            root=str(self.root),
            run=run,
            which=lambda name: name if name in self.tools else None,
            import_module=import_module,
            access=lambda path, mode: path[len(str(self.root)) :] not in self.denied,
            euid=self.euid,
            python=self.python,
        )

    def checks(self, **kwargs):
        kwargs.setdefault("open_bus", lambda n: self.i2c)
        return {c.name: c for c in run_checks(self.host(), **kwargs)}


@pytest.fixture
def nano(tmp_path):
    return FakeJetson(tmp_path)


def test_a_healthy_nano_passes_every_check(nano):
    checks = nano.checks()
    assert {name: c.status for name, c in checks.items()} == {
        "board": OK, "python": OK, "gpio module": OK, "gpiochip": OK, "pwm pinmux": OK,
        "gstreamer": OK, "gi (PyGObject)": OK, "nvarguscamerasrc": OK, "nvargus-daemon": OK,
        "cameras": OK, "i2c buses": OK, "i2c devices": OK, "opencv": OK,
    }  # fmt: skip
    assert checks["board"].found == ("NVIDIA Jetson Nano Developer Kit (L4T 32.7.1, JetPack 4.6.1)")
    assert checks["gpio module"].found == "Jetson.GPIO 2.1.7"
    assert checks["pwm pinmux"].found == ("pin 32 PWM (pinmux 0x45), pin 33 PWM (pinmux 0x46)")
    assert checks["i2c devices"].found.startswith("bus 1: 0x40 answers, 0x60 no answer")
    assert checks["cameras"].found == "/dev/video0"
    assert checks["i2c buses"].found == "/dev/i2c-0, /dev/i2c-1"
    assert all(c.fix == "" for c in checks.values())


def test_main_prints_one_line_per_check_and_exits_0_when_nothing_failed(nano):
    out = io.StringIO()
    code = doctor.main(["--no-probe"], host=nano.host(), out=out)
    lines = out.getvalue().splitlines()
    assert code == 0
    assert len(lines) == 13
    assert lines[0].split()[:2] == ["ok", "board"]
    assert lines[11] == "n/a   i2c devices       probe disabled"


def test_gpiochip_without_permission_fails_with_the_gpio_group_fix(nano):
    nano.denied.add("/dev/gpiochip0")
    check = nano.checks()["gpiochip"]
    assert (check.status, check.found) == (FAIL, "no read/write permission on /dev/gpiochip0")
    assert "sudo usermod -a -G gpio $USER" in check.fix and "/99-gpio.rules" in check.fix
    assert "sudo udevadm trigger" in check.fix
    out = io.StringIO()
    assert doctor.main([], host=nano.host(), out=out) == 1


def test_jetson_gpio_import_failure_is_reported_in_one_line(nano):
    nano.modules["Jetson.GPIO"] = None
    check = nano.checks()["gpio module"]
    assert check.status == FAIL
    assert check.found == "import Jetson.GPIO failed (ImportError: No module named 'Jetson.GPIO')"
    assert check.fix.startswith("pip install Jetson.GPIO")


def test_pwm_pinmux_not_set_names_the_pin_and_the_commands(nano):
    nano.commands[("busybox", "devmem", "0x70003248", "32")] = (0, "0x00000054\n")  # GPIO mode
    check = nano.checks()["pwm pinmux"]
    assert check.status == WARN
    assert check.found == "pin 32 PWM (pinmux 0x45), pin 33 not PWM (pinmux 0x54)"
    assert "jetson-io.py" in check.fix
    assert (
        "`sudo busybox devmem 0x70003248 32 0x46; sudo busybox devmem 0x6000d100 32 0x00` (pin 33)"
        in check.fix
    )


def test_pwm_pinmux_without_root_says_how_to_check(nano):
    nano.euid = 1000
    check = nano.checks()["pwm pinmux"]
    assert check.status == WARN
    assert check.found.startswith("not read: reading the pinmux needs root")
    assert "sudo busybox devmem 0x700031fc shows 0x45" in check.found


def test_argus_problems_are_failures_with_the_restart_fix(nano):
    nano.commands[("systemctl", "is-active", "nvargus-daemon")] = (3, "inactive\n")
    nano.remove("proc/4242/comm")
    del nano.commands[("gst-inspect-1.0", "nvarguscamerasrc")]
    checks = nano.checks()
    assert checks["nvargus-daemon"].status == FAIL
    assert checks["nvargus-daemon"].fix.startswith("sudo systemctl restart nvargus-daemon")
    assert checks["nvarguscamerasrc"].status == FAIL


def test_argus_daemon_found_in_proc_when_there_is_no_systemd(nano):
    nano.tools.discard("systemctl")
    assert nano.checks()["nvargus-daemon"].status == OK


def test_pip_opencv_shadowing_jetpacks_is_a_warning(nano):
    nano.modules["cv2"] = fake_cv2("NO", "/home/me/venv/lib/python3.6/site-packages/cv2/cv2.so")
    check = nano.checks()["opencv"]
    assert check.status == WARN
    assert "GStreamer: NO (a pip wheel shadowing JetPack's cv2)" in check.found
    assert "/home/me/venv/lib/python3.6/site-packages/cv2" in check.found
    assert check.fix.startswith("pip uninstall opencv-python opencv-python-headless")


def test_python_other_than_jetpacks_is_a_warning(nano):
    nano.python = ("3.8.10", "/usr/local/bin/python3.8")
    check = nano.checks()["python"]
    assert (check.status, check.found) == (WARN, "Python 3.8.10 (/usr/local/bin/python3.8)")
    assert "built for Python 3.6" in check.fix


def test_i2c_without_permission_and_without_answers(nano):
    nano.denied.add("/dev/i2c-1")
    nano.i2c.detach(0x40)
    checks = nano.checks()
    assert checks["i2c buses"].status == FAIL
    assert "sudo usermod -aG i2c $USER" in checks["i2c buses"].fix
    assert checks["i2c devices"].status == WARN
    assert checks["i2c devices"].found.startswith("bus 1: 0x40 no answer, 0x60 no answer")
    assert "i2cdetect -y -r 1" in checks["i2c devices"].fix


def test_i2c_probe_of_a_missing_bus_fails(nano):
    nano.remove("dev/i2c-1")
    check = nano.checks(i2c_bus=1)["i2c devices"]
    assert (check.status, check.found) == (FAIL, "I2C bus 1 does not exist")


def test_a_laptop_says_which_checks_do_not_apply(tmp_path):
    host = Host(
        root=str(tmp_path), run=lambda argv: (1, ""), which=lambda name: None,
        import_module=lambda name: (_ for _ in ()).throw(ImportError(name)),
        access=lambda path, mode: True, euid=1000, python=("3.12.1", "/usr/bin/python3"),
    )  # fmt: skip
    checks = {c.name: c for c in run_checks(host)}
    not_applicable = {name for name, c in checks.items() if c.status == NA}
    assert not_applicable == {
        "board", "gpio module", "gpiochip", "pwm pinmux", "nvarguscamerasrc", "nvargus-daemon",
        "cameras", "i2c buses", "i2c devices", "opencv",
    }  # fmt: skip
    assert checks["board"].found.startswith("not a Jetson or Raspberry Pi")
    assert checks["gstreamer"].status == WARN  # useful off the board too: test:// cameras
    assert doctor.main(["--no-probe"], host=host, out=io.StringIO()) == 0


def test_format_check_puts_the_fix_after_an_arrow():
    line = doctor.format_check(doctor.Check("cameras", WARN, "no /dev/video*", "plug one in"))
    assert line == "warn  cameras           no /dev/video*  -> plug one in"
