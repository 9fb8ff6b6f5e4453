"""The process executor with real worker processes over real ipc sockets."""

import os
import signal
import socket
import subprocess
import sys
import threading

import pytest

from nanobot import endpoints
from nanobot.executors.process import ProcessExecutor
from nanobot.graph import Graph

import example_nodes as ex
from conftest import wait_for


def read(path):
    with open(path) as f:
        return f.read()


def recorded(path):
    with open(path) as f:
        return [tuple(map(int, line.split())) for line in f]


def run_until_seen(executor, *conditions):
    """Run `executor` until each condition has held in turn, then stop it; its status."""

    def watch():
        for condition in conditions:
            wait_for(condition, timeout=60)
        executor.stop("test")

    watcher = threading.Thread(target=watch)
    watcher.start()
    status = executor.run(until=120)
    watcher.join()
    return status


def test_graph_runs_in_processes_and_ends_when_a_node_asks(tmp_path):
    out = str(tmp_path / "seen.txt")
    g = Graph("pe1")
    g.add(ex.Counter, "counter")
    g.add(ex.Recorder, "recorder", params={"path": out, "expect": 20})
    status = ProcessExecutor(g.check()).run(until=60)
    assert status == 0
    rows = recorded(out)
    ns = [n for n, _ in rows]
    assert len(ns) == 20 and ns == list(range(ns[0], ns[0] + 20)), "lost or reordered: %s" % ns
    assert {pid for _, pid in rows} != {os.getpid()}, "the counter ran in another process"
    assert not os.listdir(endpoints.ipc_root()), "ipc files were left behind"


@pytest.mark.parametrize("group", [None, "vision"], ids=["two processes", "one process"])
def test_frames_to_a_node_on_this_host_go_through_shared_memory_and_leave_no_files(
    tmp_path, shm_dir, group
):
    out = str(tmp_path / "frames.txt")
    g = Graph("pe-shm")
    g.add(
        ex.FrameSource, "camera", params={"width": 640, "height": 480, "period": 0.01}, group=group
    )
    g.add(ex.FrameChecker, "checker", params={"path": out, "expect": 30}, group=group)
    if group:
        assert g.plan("checker")["image"] == ["inproc://pe-shm/camera%2Fimage@camera"]
    assert ProcessExecutor(g.check()).run(until=60) == 0
    with open(out) as f:
        seen, bad, from_slot = map(int, f.read().split())
    assert (seen, bad) == (30, 0)
    assert from_slot == 30, "VGA frames to a node on this host come through shared memory"
    assert not os.listdir(shm_dir), "slot files were left behind"
    assert not os.listdir(endpoints.ipc_root()), "ipc files were left behind"


def test_groups_share_a_process(tmp_path):
    out = str(tmp_path / "seen.txt")
    g = Graph("pe2")
    g.add(ex.Counter, "counter", group="all")
    g.add(ex.Recorder, "recorder", params={"path": out, "expect": 5}, group="all")
    executor = ProcessExecutor(g.check())
    assert [w.group for w in executor.workers] == ["all"]
    assert executor.run(until=60) == 0
    assert len(recorded(out)) == 5


def test_heartbeats_reach_a_node_from_its_own_process_and_from_others(tmp_path):
    out = str(tmp_path / "heard.txt")
    g = Graph("pe-hb")
    g.add(ex.Counter, "near", {"period": 0.1}, group="one")
    g.add(ex.Counter, "far", {"period": 0.1}, remap={"count": "count2"})
    expect = ["far", "near", "watcher"]
    g.add(ex.HeartbeatWatcher, "watcher", {"path": out, "expect": expect}, group="one")
    heard_at = g.check().plan("watcher")["heartbeats"]  # its group's and its own in-process
    assert [ep.split("://")[0] for ep in heard_at] == ["inproc", "ipc", "inproc"]
    assert ProcessExecutor(g).run(until=60) == 0
    assert read(out).split() == expect


def test_crashed_node_is_restarted_on_failure(tmp_path):
    out = str(tmp_path / "seen.txt")
    g = Graph("pe3")
    g.add(ex.CrashOnce, "flaky", params={"marker": str(tmp_path / "m")}, restart="on-failure")
    g.add(ex.Recorder, "recorder", params={"path": out, "expect": 10})
    executor = ProcessExecutor(g.check())
    status = executor.run(until=60)
    flaky = executor.workers[0]
    assert flaky.restarts == 1
    assert status == 1, "a crash makes the run unclean even when the restart recovered"
    assert len(recorded(out)) == 10


def test_a_worker_killed_before_it_reads_its_job_is_restarted(tmp_path, monkeypatch):
    # SIGKILL as the process starts (a crash-looping node killed again, the OOM killer):
    # the supervisor's write of the job meets a closed pipe, which must not end the graph
    out = str(tmp_path / "seen.txt")
    g = Graph("pe9")
    g.add(ex.Counter, "counter", restart="on-failure")
    g.add(ex.Recorder, "recorder", params={"path": out, "expect": 5})
    real_popen = subprocess.Popen
    started = []

    def popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        if len(started) == 1:  # the counter's first process (workers start in graph order)
            proc.kill()
            proc.wait()
        return proc

    monkeypatch.setattr(subprocess, "Popen", popen)
    executor = ProcessExecutor(g.check())
    status = executor.run(until=60)
    assert started[0].returncode == -signal.SIGKILL
    assert executor.workers[0].restarts == 1
    assert status == 1, "a killed worker makes the run unclean"
    assert len(recorded(out)) == 5


def test_never_restart_leaves_the_node_down_and_the_rest_running(tmp_path):
    g = Graph("pe4")
    g.add(ex.CrashOnce, "flaky", params={"marker": str(tmp_path / "m")})
    g.add(ex.Releaser, "hw", params={"path": str(tmp_path / "released")})
    executor = ProcessExecutor(g.check())
    flaky = executor.workers[0]
    status = run_until_seen(
        executor,
        lambda: flaky.returncode is not None,
        lambda: os.path.exists(str(tmp_path / "released.up")),
    )
    assert status == 1
    assert executor.workers[0].returncode == 7 and executor.workers[0].restarts == 0
    assert read(str(tmp_path / "released")) == "released"


def _run_cli(args, **env):
    """`nanobot ARGS` in a new process that imports what this one does."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p), **env)
    return subprocess.Popen([sys.executable, "-m", "nanobot", *args], env=env)


def graph_file(tmp_path, text):
    p = tmp_path / "g.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_every_node_and_runs_teardown(tmp_path, sig):
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    path = graph_file(
        tmp_path,
        "graph: pe5\nnodes:\n"
        "  a: {class: 'example_nodes:Releaser', params: {path: '%s'}}\n"
        "  b: {class: 'example_nodes:Releaser', params: {path: '%s'}}\n" % (a, b),
    )
    proc = _run_cli(["run", path])
    wait_for(lambda: os.path.exists(a + ".up") and os.path.exists(b + ".up"), timeout=30)
    proc.send_signal(sig)
    assert proc.wait(30) == 0
    assert read(a) == "released" and read(b) == "released"
    assert not os.path.exists(endpoints.graph_dir("pe5"))


def test_a_node_that_will_not_stop_is_killed(tmp_path):
    g = Graph("pe6")
    g.add(ex.Releaser, "stuck", params={"path": str(tmp_path / "x"), "hang": True})
    executor = ProcessExecutor(g.check(), stop_timeout=1.0)
    status = run_until_seen(executor, lambda: os.path.exists(str(tmp_path / "x.up")))
    assert status == 1
    assert executor.workers[0].proc.returncode == -signal.SIGKILL


def test_stale_ipc_files_from_a_killed_run_do_not_break_the_next(tmp_path):
    out = str(tmp_path / "seen.txt")
    endpoints.prepare("pe7")
    for node, topic in (("counter", "count"), ("recorder", "nanobot/heartbeat")):
        open(endpoints.ipc_path("pe7", node, topic), "w").close()  # left by kill -9
    g = Graph("pe7")
    g.add(ex.Counter, "counter")
    g.add(ex.Recorder, "recorder", params={"path": out, "expect": 5})
    assert ProcessExecutor(g.check()).run(until=60) == 0
    assert len(recorded(out)) == 5


def free_port_pair():
    """A port p with p and p + 1 free on loopback now (other test runs may share the host)."""
    while True:
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port


def test_two_hosts_over_tcp_on_loopback(tmp_path):
    out = str(tmp_path / "seen.txt")
    board_port, laptop_port = free_port_pair(), free_port_pair()
    path = graph_file(
        tmp_path,
        "graph: pe8\n"
        "hosts:\n"
        "  board: {address: 127.0.0.1, port_base: %d}\n"
        "  laptop: {address: 127.0.0.1, port_base: %d}\n"
        "nodes:\n"
        "  counter: {class: 'example_nodes:Counter', host: board}\n"
        "  recorder: {class: 'example_nodes:Recorder', host: laptop,"
        " params: {path: '%s', expect: 10}}\n" % (board_port, laptop_port, out),
    )
    # Each launcher has its own ipc root, as two machines would: only tcp connects them.
    board = _run_cli(["run", path, "--host", "board"], NANOBOT_IPC_DIR=str(tmp_path / "b"))
    laptop = _run_cli(["run", path, "--host", "laptop"], NANOBOT_IPC_DIR=str(tmp_path / "l"))
    try:
        assert laptop.wait(60) == 0, "the recorder ends the laptop side after 10 messages"
    finally:
        board.send_signal(signal.SIGTERM)
        assert board.wait(30) == 0
    ns = [n for n, _ in recorded(out)]
    assert ns == list(range(ns[0], ns[0] + 10))
