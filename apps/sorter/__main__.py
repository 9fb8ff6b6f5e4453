"""python -m apps.sorter: run the sorting robot, on the board or against the simulated cell.

    python -m apps.sorter --items 50            # simulation, virtual time, as fast as it goes
    python -m apps.sorter                        # simulation in real time (not on a Jetson)
    python -m apps.sorter --hal jetson           # the real cell, wired as --wiring says

Ctrl-C stops cleanly and prints the report; --json adds it as one JSON line at the end.
"""

import argparse
import logging
import os
import sys

from hal.platform import detect
from nanobot import graph as graphs
from nanobot.executors.process import ProcessExecutor
from nanobot.executors.sim import SimExecutor
from nanobot.nodes.detector import DetectorNode

from . import config as configs

DEFAULT_SIM_SECONDS = 120.0


def parser():
    p = argparse.ArgumentParser(
        prog="python -m apps.sorter",
        description="Run the sorting robot: camera -> detector -> tracker -> scheduler -> io.",
    )
    p.add_argument(
        "--hal",
        choices=("auto", "sim", "jetson"),
        default="auto",
        help="hardware: auto (the board on a Jetson, else simulation), sim or jetson",
    )
    p.add_argument("--wiring", help="wiring file (default: sims/conveyor/wiring.yaml)")
    p.add_argument("--config", help="config file (default: apps/sorter/config.yaml)")
    p.add_argument("--graph", help="graph file (default: apps/sorter/graph.yaml)")
    p.add_argument("--items", type=int, default=0, help="stop after N items have left the belt")
    p.add_argument("--seconds", type=float, help="stop after T seconds (virtual in --fast)")
    p.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    p.add_argument("--faults", default="", help="simulation faults, e.g. frame_drop=0.1")
    p.add_argument("--speed", type=float, help="belt speed set point, mm/s")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--realtime",
        dest="fast",
        action="store_false",
        default=None,
        help="simulation on the wall clock, one process per node group",
    )
    pace.add_argument(
        "--fast",
        dest="fast",
        action="store_true",
        help="simulation on a virtual clock, as fast as it goes (default with --items)",
    )
    p.add_argument("--json", action="store_true", help="end with the report as one JSON line")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NODE.PARAM=VALUE",
        help="override a node's param (after the config)",
    )
    p.add_argument("--log-level", default="WARNING", help="logging level (default WARNING)")
    return p  # fmt: skip


def resolve_hal(choice):
    """'sim' or 'jetson' for --hal `choice`, and a sentence saying why."""
    if choice != "auto":
        return choice, "--hal %s" % choice
    board = detect()
    if board.is_jetson:
        return "jetson", "auto: this is a %s" % (board.model or board.name)
    return "sim", "auto: not a Jetson, so the simulated cell"


def build(args, hal, fast=False):
    """The checked graph for these arguments (`fast`: on the virtual clock)."""
    config = configs.load(args.config)
    graph = graphs.load(args.graph or configs.DEFAULT_GRAPH)
    configs.apply(graph, config)
    io, camera = graph.nodes["io"].params, graph.nodes["camera"].params
    io["hal"] = hal
    if args.wiring:
        io["wiring"] = args.wiring
    if args.speed is not None:
        io["speed_mm_s"] = float(args.speed)
    if hal == "sim":
        io["seed"] = args.seed
        if args.faults:
            io["sim"] = dict(io.get("sim") or {}, faults=args.faults)
        camera["uri"] = "sim://conveyor"
    settings = {
        "hal": hal,
        "seed": args.seed if hal == "sim" else None,
        "faults": args.faults or None,
        "speed_mm_s": io["speed_mm_s"],
        "items": args.items,
        "realtime": not fast,
        "config": config["source"],
        "set": list(args.set),
    }
    graph.nodes["monitor"].params.update(
        items=args.items, json=bool(args.json), settings=settings, bins=dict(config["bins"])
    )
    for item in args.set:
        target, eq, value = item.partition("=")
        node, dot, param = target.partition(".")
        if not eq or not dot:
            raise graphs.GraphError(["--set %r must be written node.param=value" % item])
        graph.set_param(node, param, graphs.parse_value(value))
    return graph.check()


def check_model(graph):
    """Refuse to start without the detector's model, in one sentence."""
    model = graph.nodes["detector"].params.get("model")
    if graph.nodes["detector"].cls is DetectorNode and model and not os.path.exists(model):
        raise configs.ConfigError(
            "the detector's model %s is missing: build it with sh apps/sorter/models/train.sh "
            "(or set detector.model to yours)" % model
        )


def main(argv=None):
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    hal, why = resolve_hal(args.hal)
    fast = args.fast if args.fast is not None else bool(args.items)
    if hal != "sim":
        fast = False
    try:
        graph = build(args, hal, fast)
        check_model(graph)
    except (graphs.GraphError, configs.ConfigError) as e:
        print("cannot start the sorter: %s" % e, file=sys.stderr)
        return 2
    seconds = args.seconds
    if hal == "sim" and not args.items and seconds is None:
        seconds = DEFAULT_SIM_SECONDS
    mode = "virtual time, as fast as it goes" if fast else "real time"
    print(
        "sorter: %s (%s), %s; %s"
        % (
            "simulated cell, seed %d" % args.seed if hal == "sim" else "real cell",
            why,
            mode,
            "until %d items have left the belt" % args.items
            if args.items
            else ("for %g s" % seconds if seconds else "until Ctrl-C"),
        ),
        flush=True,
    )
    if fast:
        sim = SimExecutor(graph, seed=args.seed)
        try:
            sim.run(until=seconds)
        except KeyboardInterrupt:
            pass  # the nodes were torn down: the monitor printed the report
        return 0
    return ProcessExecutor(graph, log_level=args.log_level.upper()).run(until=seconds)


if __name__ == "__main__":
    sys.exit(main())
