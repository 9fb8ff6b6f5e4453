"""The `nanobot` command: run and check graphs, look at topics and nodes of a running graph.

nanobot run FILE [--set node.param=value ...] [--host NAME] [--seconds T] [--sim]
nanobot check FILE            nanobot graph FILE [--dot]
nanobot topic list|echo|hz|bw ...     nanobot node list
nanobot demo                  (the demo graph: frames flowing between two processes)
"""

import argparse
import logging
import os
import sys
import time

import numpy as np
import zmq

from . import __version__, codec, endpoints
from . import graph as graphs
from .node import HEARTBEAT_TOPIC

DEMO_GRAPH = os.path.join(os.path.dirname(__file__), "graphs", "demo.yaml")


class UserError(Exception):
    """A mistake in what the user asked for: printed as one line, no traceback."""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["hal"]:  # the hardware layer's own tools parse their own arguments
        return _hal(argv[1:])
    if argv[:1] == ["pinout"]:
        return _pinout(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except graphs.GraphError as e:
        for p in e.problems:
            print("nanobot: error: %s" % p, file=sys.stderr)
        return 2
    except UserError as e:
        print("nanobot: error: %s" % e, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser():
    p = argparse.ArgumentParser(
        prog="nanobot", description="Camera + GPIO robots as a graph of ZeroMQ nodes."
    )
    p.add_argument("--version", action="version", version="nanobot " + __version__)
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    def graph_args(sp):
        sp.add_argument("file", help="graph file (YAML)")
        sp.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="NODE.PARAM=VALUE",
            help="override a param (YAML syntax for the value); repeatable",
        )

    def run_args(sp):
        sp.add_argument("--seconds", type=float, help="stop after this many seconds")
        sp.add_argument(
            "--sim",
            action="store_true",
            help="run in the simulation executor (one process, virtual time)",
        )
        sp.add_argument(
            "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
        )

    sp = sub.add_parser("run", help="run a graph (one process per node or group)")
    graph_args(sp)
    run_args(sp)
    sp.add_argument("--host", help="run only the nodes placed on this host (multi-host graphs)")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("demo", help="run the demo graph: frames between two processes")
    sp.add_argument("--set", action="append", default=[], metavar="NODE.PARAM=VALUE")
    run_args(sp)
    sp.set_defaults(func=cmd_demo, file=DEMO_GRAPH, host=None)

    sp = sub.add_parser("check", help="check a graph file without running it")
    graph_args(sp)
    sp.set_defaults(func=cmd_check)

    sp = sub.add_parser("graph", help="show a graph's nodes and topics (text or Graphviz dot)")
    graph_args(sp)
    sp.add_argument("--dot", action="store_true", help="print Graphviz dot")
    sp.set_defaults(func=cmd_graph)

    from .vision import cli as vision_cli  # nanobot detect ...

    vision_cli.add_parser(sub)

    tp = sub.add_parser("topic", help="inspect topics of a running graph").add_subparsers(
        title="topic commands", metavar="COMMAND"
    )
    for name, func, helptext in (
        ("echo", cmd_topic_echo, "print messages (headers and array summaries)"),
        ("hz", cmd_topic_hz, "print the rate and interval statistics"),
        ("bw", cmd_topic_bw, "print the bandwidth"),
    ):
        sp = tp.add_parser(name, help=helptext)
        sp.add_argument("topic")
        sp.add_argument("--graph", help="graph name (default: the only one running)")
        sp.add_argument("-n", "--count", type=int, help="stop after this many messages/reports")
        sp.set_defaults(func=func)
    sp = tp.add_parser("list", help="list published topics and their publishers")
    sp.add_argument("--graph", help="graph name (default: the only one running)")
    sp.set_defaults(func=cmd_topic_list)

    # Listed for --help; main() hands them to the hardware layer's own CLI (hal/cli.py).
    sub.add_parser("hal", help="hardware tools: doctor, selftest, pinout (see nanobot hal -h)")
    sub.add_parser("pinout", help="print the board's 40-pin header (--board NAME)")

    np_ = sub.add_parser("node", help="inspect nodes of a running graph").add_subparsers(
        title="node commands", metavar="COMMAND"
    )
    sp = np_.add_parser("list", help="list nodes with their health (from heartbeats)")
    sp.add_argument("--graph", help="graph name (default: the only one running)")
    sp.add_argument("--wait", type=float, default=2.5, help="seconds to listen (default 2.5)")
    sp.set_defaults(func=cmd_node_list)
    return p


def _pinout(argv):
    """`nanobot pinout [--graph FILE] ...`: hal's pinout, with the graph's pins marked."""
    if "--graph" not in argv:
        return _hal(["pinout", *argv])
    i = argv.index("--graph")
    if i + 1 >= len(argv):
        print("nanobot: error: --graph needs a graph file", file=sys.stderr)
        return 2
    rest = argv[:i] + argv[i + 2 :]
    try:
        g = graphs.load(argv[i + 1])
    except graphs.GraphError as e:
        for p in e.problems:
            print("nanobot: error: %s" % p, file=sys.stderr)
        return 2
    uses = ["--use=%d=%s: %s" % (pin, node, use) for pin, (node, use) in sorted(g.pins().items())]
    return _hal(["pinout", *rest, *uses])


def _hal(argv):
    from hal import cli as hal_cli

    return hal_cli.main(argv, prog="nanobot hal")


# ---------------------------------------------------------------- graph commands


def cmd_check(args):
    g = graphs.load(args.file, args.set)
    print(
        "%s: graph %r is valid: %d nodes, %d topics"
        % (args.file, g.name, len(g.nodes), len(g.topics()))
    )


def cmd_graph(args):
    g = graphs.load(args.file, args.set)
    print(g.to_dot() if args.dot else g.describe())


def cmd_demo(args):
    return cmd_run(args)


def cmd_run(args):
    g = graphs.load(args.file, args.set)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s.%(msecs)03d %(name)s %(levelname)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if args.sim:
        from .executors.sim import SimExecutor

        SimExecutor(g).run(until=args.seconds)
        return 0
    from .executors.process import ProcessExecutor

    if g.hosts and not args.host:
        raise UserError(
            "graph %r spans hosts (%s): say which one this is with --host"
            % (g.name, ", ".join(g.hosts))
        )
    try:
        executor = ProcessExecutor(g, host=args.host, log_level=args.log_level)
    except ValueError as e:
        raise UserError(str(e)) from None
    where = " on host %s" % args.host if args.host else ""
    print(
        "nanobot: running graph %r%s (%d processes); Ctrl-C stops it"
        % (g.name, where, len(executor.workers)),
        file=sys.stderr,
    )
    return executor.run(until=args.seconds)


# ---------------------------------------------------------------- live graph commands


def _graph_name(name):
    if name:
        return name
    live = endpoints.graphs()
    if len(live) == 1:
        return live[0]
    if not live:
        raise UserError(
            "no graph is running on this host (nothing under %s)" % endpoints.ipc_root()
        )
    raise UserError("several graphs are running (%s): choose one with --graph" % ", ".join(live))


class _Listener:
    """A SUB socket on one topic of a live graph, reconnecting to publishers as they appear."""

    def __init__(self, graph, topic):
        self.graph, self.topic = graph, topic
        self.socket = zmq.Context.instance().socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SUBSCRIBE, codec.topic_frame(topic))
        self.connected = set()
        self.last_scan = 0.0
        self._scan()

    def _scan(self):
        for _, _, ep in endpoints.discover(self.graph, self.topic):
            if ep not in self.connected:
                self.socket.connect(ep)
                self.connected.add(ep)
        self.last_scan = time.monotonic()

    def recv(self, timeout):
        """Frames of the next message, or None after `timeout` seconds."""
        if time.monotonic() - self.last_scan > 1.0:
            self._scan()
        if self.socket.poll(int(timeout * 1000)):
            return self.socket.recv_multipart(copy=False)
        return None


def _summary(arr):
    if arr.size == 0:
        return "%s %s (empty)" % (arr.dtype, list(arr.shape))
    a = arr.astype(np.float64)
    return "%s %s min %.4g max %.4g mean %.4g" % (
        arr.dtype,
        list(arr.shape),
        a.min(),
        a.max(),
        a.mean(),
    )


def cmd_topic_echo(args):
    listener = _Listener(_graph_name(args.graph), args.topic)
    shown = 0
    while args.count is None or shown < args.count:
        frames = listener.recv(1.0)
        if frames is None:
            continue
        try:
            env = codec.decode_envelope(frames)
        except codec.DecodeError as e:
            print("--- malformed message (%s): %s" % (e.kind, e))
            continue
        print(
            "--- %s  %s v%d  seq %d  stamp %d  from %s"
            % (env.topic, env.type_name, env.type_version, env.seq, env.stamp, env.source)
        )
        for k, v in env.fields.items():
            print("  %s: %r" % (k, v))
        for k, arr in env.arrays.items():
            print("  %s: %s" % (k, _summary(arr)))
        shown += 1
        sys.stdout.flush()


def _report_loop(args, on_frames, report):
    listener = _Listener(_graph_name(args.graph), args.topic)
    reports = 0
    next_report = time.monotonic() + 1.0
    while args.count is None or reports < args.count:
        frames = listener.recv(max(0.0, next_report - time.monotonic()))
        if frames is not None:
            on_frames(frames, time.monotonic())
        if time.monotonic() >= next_report:
            print(report())
            sys.stdout.flush()
            reports += 1
            next_report += 1.0


def cmd_topic_hz(args):
    times = []

    def on_frames(frames, t):
        times.append(t)
        del times[:-1000]

    def report():
        if len(times) < 2:
            return "no messages yet on %r" % args.topic
        dt = np.diff(times)
        return "rate %.2f Hz  min %.2f ms  max %.2f ms  std %.2f ms  window %d" % (
            1.0 / dt.mean(),
            1e3 * dt.min(),
            1e3 * dt.max(),
            1e3 * dt.std(),
            len(dt),
        )

    _report_loop(args, on_frames, report)


def cmd_topic_bw(args):
    sizes = []

    def on_frames(frames, t):
        sizes.append((t, sum(len(f.buffer) for f in frames)))

    def report():
        now = time.monotonic()
        recent = [s for t, s in sizes if t > now - 1.0]
        del sizes[: len(sizes) - len(recent)]
        if not recent:
            return "no messages in the last second on %r" % args.topic
        return "%.2f MB/s  mean %.1f kB  max %.1f kB  %d msgs" % (
            sum(recent) / 1e6,
            np.mean(recent) / 1e3,
            max(recent) / 1e3,
            len(recent),
        )

    _report_loop(args, on_frames, report)


def cmd_topic_list(args):
    name = _graph_name(args.graph)
    topics = {}
    for topic, node, _ in endpoints.discover(name):
        topics.setdefault(topic, []).append(node)
    print("graph %s" % name)
    for topic, nodes in sorted(topics.items()):
        print("  %-32s published by %s" % (topic, ", ".join(nodes)))


def cmd_node_list(args):
    name = _graph_name(args.graph)
    listener = _Listener(name, HEARTBEAT_TOPIC)
    beats = {}
    end = time.monotonic() + args.wait
    while time.monotonic() < end:
        frames = listener.recv(max(0.0, end - time.monotonic()))
        if frames is None:
            continue
        try:
            _, hb = codec.decode(frames)
        except codec.DecodeError:
            continue
        beats[hb.node] = hb
    if not beats:
        raise UserError("no heartbeat from graph %r in %.1f s" % (name, args.wait))
    print(
        "%-16s %-8s %8s %9s %10s %7s  inputs (received/dropped/malformed)"
        % ("node", "pid", "uptime", "callbacks", "cb ms avg", "errors")
    )
    for node, hb in sorted(beats.items()):
        ins = ", ".join(
            "%s %d/%d/%d" % (k, v["received"], v["dropped"], v["malformed"] + v["rejected"])
            for k, v in hb.inputs.items()
        )
        print(
            "%-16s %-8d %7.0fs %9d %10.3f %7d  %s"
            % (node, hb.pid, hb.uptime, hb.callbacks, hb.callback_ms_mean, hb.errors, ins or "-")
        )


if __name__ == "__main__":
    sys.exit(main())
