"""The nanobot command, as a user runs it: separate processes, real output."""

import os
import signal
import subprocess
import sys

import pytest

from nanobot import endpoints

from conftest import wait_for


def nanobot(*args, timeout=60):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run(
        [sys.executable, "-m", "nanobot", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        timeout=timeout,
    )


def test_check_ok_and_errors_are_one_line_each_without_traceback(tmp_path):
    r = nanobot("check", "nanobot/graphs/demo.yaml")
    assert r.returncode == 0
    assert r.stdout == "nanobot/graphs/demo.yaml: graph 'demo' is valid: 2 nodes, 2 topics\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text("graph: g\nnodes:\n  a: {class: 'nanobot.nodes.demo:Nope'}\n")
    r = nanobot("check", str(bad), "--set", "camera.fps=1")
    assert r.returncode == 2
    assert r.stderr == (
        "nanobot: error: %s:3: node 'a': unknown class 'nanobot.nodes.demo:Nope': module "
        "nanobot.nodes.demo has no Nope\n" % bad
    )
    assert "Traceback" not in r.stderr


def test_graph_views():
    r = nanobot("graph", "nanobot/graphs/demo.yaml", "--dot")
    assert r.returncode == 0 and r.stdout.startswith('digraph "demo" {')
    r = nanobot("graph", "nanobot/graphs/demo.yaml", "--set", "camera.fps=5")
    assert "param  fps = 5" in r.stdout


def test_help_everywhere():
    for args in ([], ["run"], ["topic"], ["topic", "echo"], ["node", "list"]):
        r = nanobot(*args, "--help")
        assert r.returncode == 0 and "usage: nanobot" in r.stdout


def test_hardware_tools_are_reachable_through_nanobot():
    r = nanobot("pinout", "--board", "jetson-nano")
    assert r.returncode == 0
    assert "Jetson Nano dev kit 40-pin header" in r.stdout
    r = nanobot("hal", "selftest", "--backend", "sim", "--out", "12", "--in", "16",
                "--period", "0.01")  # fmt: skip
    assert r.returncode == 0 and "pin 12 -> pin 16: ok" in r.stdout
    r = nanobot("hal", "--help")
    assert r.stdout.startswith("usage: nanobot hal")


def test_pinout_marks_the_pins_a_graph_uses(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text(
        "graph: g\nnodes:\n  red: {class: 'example_nodes:Lamp'}\n"
        "  green: {class: 'example_nodes:Lamp', params: {pin: 33}}\n"
    )
    r = nanobot("pinout", "--graph", str(g), "--board", "jetson-nano")
    assert r.returncode == 0, r.stderr
    row = {
        int(line.split("|")[0].split()[-1]): line for line in r.stdout.splitlines() if "|" in line
    }
    assert row[11].endswith("[red: lamp] GPIO")  # pin 12 is the right column of row 11
    assert "[green: lamp] GPIO, PWM" in row[33].split("|")[0]


def test_tools_without_a_running_graph_say_so():
    r = nanobot("topic", "list")
    assert r.returncode == 2
    assert r.stderr.startswith("nanobot: error: no graph is running on this host")


@pytest.fixture
def demo(tmp_path):
    """The demo graph running in the background (stopped with SIGINT, like Ctrl-C)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen(
        [sys.executable, "-m", "nanobot", "demo", "--set", "camera.width=64",
         "--set", "camera.height=48"],
        env=env, stderr=subprocess.PIPE, universal_newlines=True,
    )  # fmt: skip
    wait_for(lambda: len(endpoints.discover("demo")) == 4, timeout=30)
    yield proc
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "fps" in err, "the monitor reports rates"


def test_live_topic_and_node_tools(demo):
    r = nanobot("topic", "list")
    assert r.stdout.splitlines()[0] == "graph demo"
    assert "camera/image" in r.stdout and "published by camera" in r.stdout
    r = nanobot("topic", "echo", "camera/image", "-n", "2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("--- camera/image  nanobot/Image v1") == 2
    assert "  data: uint8 [48, 64, 3] min " in r.stdout
    assert "  encoding: 'bgr8'" in r.stdout
    r = nanobot("topic", "hz", "camera/image", "-n", "2")
    last = r.stdout.splitlines()[-1]
    assert last.startswith("rate ") and float(last.split()[1]) > 10  # 30 Hz nominal
    r = nanobot("topic", "bw", "camera/image", "-n", "2")
    assert "MB/s" in r.stdout.splitlines()[-1]
    r = nanobot("node", "list", "--wait", "2.5")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert set(rows) == {"camera", "monitor"}
    assert "image " in rows["monitor"]
