"""python -m hal: pinout, selftest on the sim backend, doctor hook."""

import subprocess
import sys

import pytest

from hal.cli import main, pinout_table


def test_pinout_is_two_columns_like_the_header(capsys):
    assert main(["pinout", "--board", "jetson-nano"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Jetson Nano dev kit 40-pin header")
    rows = [line for line in out.splitlines() if " | " in line]
    assert len(rows) == 20
    assert rows[0].split() == ["3.3V", "power", "3.3V", "1", "|", "2", "5V", "5V", "power"]
    assert "GPIO, PWM (7000a000.pwm channel 2)" in rows[16] and "33 | 34" in rows[16]
    assert "external ones" in out


@pytest.mark.parametrize("board, pwm", [("orin-nano", "15, 32, 33"), ("rpi4", "12, 32, 33, 35")])
def test_pinout_other_boards(board, pwm):
    assert f"PWM pins: {pwm}" in pinout_table(board)


def test_selftest_on_sim_reports_each_pair(capsys):
    argv = ["selftest", "--backend", "sim", "--out", "12", "--in", "16", "--out", "13"]
    assert main([*argv, "--cycles", "2", "--period", "0.002"]) == 0
    out = capsys.readouterr().out
    assert "pin 12 -> pin 16: ok (4 of 4 reads agreed)" in out
    assert "pin 13: toggled 2 times" in out


def test_selftest_misuse_is_one_line_error(capsys):
    assert main(["selftest", "--backend", "sim", "--out", "2"]) == 2
    assert "error: pin 2 on the Jetson Nano dev kit is 5V power" in capsys.readouterr().err


def test_doctor_gets_the_rest_of_the_arguments(capsys):
    main(["doctor", "--no-probe"])
    out = capsys.readouterr().out
    assert "python" in out and "gpiochip" in out
    with pytest.raises(SystemExit) as e:  # doctor's own parser saw the argument
        main(["doctor", "--bogus"])
    assert e.value.code == 2


def test_python_dash_m_hal():
    result = subprocess.run(
        [sys.executable, "-m", "hal", "pinout", "--board", "rpi4"],
        stdout=subprocess.PIPE,
        check=True,
    )  # bytes: text= needs Python 3.7
    assert "Raspberry Pi 4 40-pin header" in result.stdout.decode()
