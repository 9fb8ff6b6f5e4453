"""Tests against a live sorter: `python -m apps.sorter --hal sim --realtime` in a subprocess
(real processes, real ZeroMQ, the real app on the wall clock), watched from the test over
nanobot's own endpoints and transport, as one more subscriber of the graph would be.

    path, graph = write_graph(tmp_path, scheduler={"restart": "never"})
    with Sorter(tmp_path, path, "--seed", "3") as sorter:
        tap = Tap(graph, {"belt": BeltState, HEARTBEAT_TOPIC: Heartbeat})
        wait_for(lambda: tap.pid("scheduler"), timeout=60, poll=tap.poll)
        ...
        code, report = sorter.stop()        # Ctrl-C: the monitor prints its report

The run's ipc root is the test's own (conftest sets NANOBOT_IPC_DIR; the subprocess
inherits it), so the graph's name does not collide with any other run on the machine.
"""

import collections
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import yaml
import zmq

from apps.sorter import config as configs
from nanobot import codec
from nanobot import graph as graphs
from nanobot.endpoints import ipc_endpoint
from nanobot.msgs import Heartbeat
from nanobot.node import HEARTBEAT_TOPIC

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


Seen = collections.namedtuple("Seen", "at stamp source msg")


def wall_ns():
    """The graph clock of the process executor (nanobot.clock.WallClock), also on 3.6."""
    return int(time.time() * 1e9)


def write_graph(tmp_path, **nodes):
    """A copy of the shipped graph with each node's entry updated from `nodes` (e.g.
    scheduler={"restart": "never"}); returns (path, the loaded Graph)."""
    with open(configs.DEFAULT_GRAPH) as f:
        doc = yaml.safe_load(f)
    for name, changes in nodes.items():
        doc["nodes"][name].update(changes)
    path = str(tmp_path / "graph.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)  # io first: it hosts the world
    return path, graphs.load(path)


class Sorter:
    """`python -m apps.sorter --graph PATH --hal sim --realtime --json ARGS` in a session of
    its own, output to files. stop() is Ctrl-C; leaving the `with` block kills whatever of
    the run is left (its process group: the supervisor and its workers)."""

    def __init__(self, tmp_path, graph_path, *args, seconds=150):
        """`graph_path` None runs the shipped graph."""
        self.out_path = str(tmp_path / "sorter.out")
        self.err_path = str(tmp_path / "sorter.err")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]))
        command = [sys.executable, "-m", "apps.sorter", "--hal", "sim", "--realtime", "--json",
                   "--seconds", str(seconds), *args]  # fmt: skip
        if graph_path is not None:
            command += ["--graph", graph_path]
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=err, start_new_session=True
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=60):
        """Ctrl-C the run and wait for it; returns (exit status, the report as a dict)."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        lines = self.stdout().strip().splitlines()
        if not (lines and lines[-1].startswith("{")):
            raise AssertionError(
                "no JSON report; stdout ends %r, stderr:\n%s" % (lines[-5:], self.stderr()[-3000:])
            )
        return code, json.loads(lines[-1])


class Tap:
    """Subscribes to `topics` ({topic: message type}) of the live `graph` (a nanobot Graph)
    at every publisher the graph file names, and records what arrives: `seen[topic]` is a
    list of Seen(at: wall ns at receipt, stamp: the message's stamp, source: the publishing
    node, msg). poll() receives what has come; hand it to conftest.wait_for as its `poll`."""

    def __init__(self, graph, topics):
        self.context = zmq.Context()
        self.sockets = {}  # socket -> (topic, message type)
        self.seen = {}
        self.poller = zmq.Poller()
        for topic, msg_type in topics.items():
            eps = [ipc_endpoint(graph.name, n.name, topic) for n, _, _ in graph.publishers(topic)]
            assert eps, "no node of graph %r publishes %r" % (graph.name, topic)
            sock = self.context.socket(zmq.SUB)
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.SUBSCRIBE, codec.topic_frame(topic))
            for ep in eps:
                sock.connect(ep)
            self.sockets[sock] = (topic, msg_type)
            self.seen[topic] = []
            self.poller.register(sock, zmq.POLLIN)

    def poll(self, timeout=0.05):
        """Wait up to `timeout` s for messages; record every one that has arrived."""
        ready = dict(self.poller.poll(int(timeout * 1000)))
        now = wall_ns()
        for sock in ready:
            topic, msg_type = self.sockets[sock]
            while sock.poll(0):
                env, msg = codec.decode(sock.recv_multipart(copy=False), msg_type)
                self.seen[topic].append(Seen(now, env.stamp, env.source, msg))

    def messages(self, topic, after_ns=None):
        """The messages on `topic` (stamped after `after_ns`), in order of arrival."""
        return [s.msg for s in self.seen[topic] if after_ns is None or s.stamp > after_ns]

    def latest(self, topic):
        return self.seen[topic][-1].msg if self.seen[topic] else None

    def heartbeats(self, node):
        """Seen heartbeats of `node`, in order of arrival."""
        return [s for s in self.seen[HEARTBEAT_TOPIC] if s.msg.node == node]

    def pid(self, node):
        """The process id of `node` as its newest heartbeat says (None before one came)."""
        beats = self.heartbeats(node)
        return beats[-1].msg.pid if beats else None

    def close(self):
        for sock in self.sockets:
            sock.close()
        self.context.term()


def with_heartbeats(topics):
    """{topic: type} for a Tap: `topics` and every node's heartbeat."""
    return dict(topics, **{HEARTBEAT_TOPIC: Heartbeat})


class Truth:
    """The simulated cell's ground truth as the io node last published it on `cell/truth`
    (KeyValue values: t0_ns, items with world-time spawn_t, beams, bin, end_t; see
    apps/sorter/io.py truth_values), with world times turned into graph times (ns)."""

    def __init__(self, values):
        self.values = values
        self.t0_ns = values["t0_ns"]
        self.items = values["items"]

    def graph_ns(self, world_t):
        return self.t0_ns + int(world_t * 1e9)

    def finished(self):
        return [r for r in self.items if r["reason"] is not None]

    def ended_after(self, graph_ns):
        """Items that left the belt (any way) after graph time `graph_ns`."""
        return [r for r in self.finished() if self.graph_ns(r["end_t"]) > graph_ns]

    def diverted(self):
        """Items that went into a diverter's bin (bin is a diverter index)."""
        return [r for r in self.finished() if isinstance(r["bin"], int)]


class BeltTrack:
    """The belt's travel over graph time, from the io node's BeltState messages: where an
    item was when, from the time it broke a beam."""

    def __init__(self, belt_states):
        self.stamps = np.array([m.stamp for m in belt_states], np.float64)
        self.positions = np.maximum.accumulate([m.position_mm for m in belt_states])

    def position_at(self, graph_ns):
        return float(np.interp(graph_ns, self.stamps, self.positions))

    def time_at(self, position_mm):
        """The first graph time (ns) at which the belt had travelled `position_mm`."""
        i = int(np.searchsorted(self.positions, position_mm))
        if i == 0 or i == len(self.positions):
            return None  # before or after what was recorded
        p0, p1 = self.positions[i - 1], self.positions[i]
        t0, t1 = self.stamps[i - 1], self.stamps[i]
        return t0 + (t1 - t0) * (position_mm - p0) / (p1 - p0)


def view_times(truth, belt, item):
    """When `item` (a truth record that broke beam 0) passed the camera's view, in graph ns:
    (enter, whole_until, leave) = its front reached the view's start (no view of it before),
    its front reached the view's end (no whole view of it after), and its rear had surely
    left the view (its length along the belt is at most size * sqrt 2, turned 45 degrees).
    None when the belt record does not cover it. Beam 0 gives where its front was when."""
    if "0" not in item["beams"]:
        return None
    cal = truth.values["calibration"]
    x0, x1 = cal["x0"], cal["x0"] + cal["width"] / cal["px_per_mm"]
    beam = truth.values["beams_mm"][0]
    at_beam = belt.position_at(truth.graph_ns(item["beams"]["0"]))
    times = (
        belt.time_at(at_beam - (beam - x0)),
        belt.time_at(at_beam - (beam - x1)),
        belt.time_at(at_beam - (beam - x1 - item["size"] * 2**0.5)),
    )
    return None if None in times else times


def children(pid):
    """Process ids of `pid`'s children, from /proc (Linux): the supervisor's workers, seen
    the moment it starts them, before they run any code that could announce them."""
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return {int(p) for p in f.read().split()}
