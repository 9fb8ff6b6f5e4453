"""The sorter's quality in simulation: accuracy vs belt speed and item rate, over seeds.

    python -m benchmarks.sorter_sweep --items 200 --seeds 1 2 3 4 5            # default cell
    python -m benchmarks.sorter_sweep --items 100 --seeds 1 2 --speeds 100 140 180 220 250
    python -m benchmarks.sorter_sweep --items 100 --seeds 1 2 --gaps 100-200 70-140 50-100
    python -m benchmarks.sorter_sweep --faults frame_drop=0.2 --items 100 --seeds 1

Each run is `python -m apps.sorter --fast` in-process (the simulation executor) with the
shipped model. Items enter spaced by a gap of belt travel drawn from `--gaps` (the cell's
`item_gap`, default 100..200 mm), so the item rate is speed / (mean gap + mean item length,
about 44 mm): the belt speed and the gap together set it. `--detector standin` replaces the
DetectorNode by the test stand-in that reports the world's true boxes with noise
(tests/sorter/standins.py), to measure the tracker, scheduler and io alone. Prints a table
and a summary per (speed, gap); --json adds every run's report as one JSON line.
"""

import argparse
import collections
import json
import os
import sys
import time

from apps.sorter import __main__ as sorter
from nanobot.executors.sim import SimExecutor


def run_once(items, seed, speed, faults, detector, gap=None):
    argv = ["--items", str(items), "--seed", str(seed), "--speed", str(speed)]
    if faults:
        argv += ["--faults", faults]
    graph = sorter.build(sorter.parser().parse_args(argv), "sim", fast=True)
    if gap is not None:
        sim = dict(graph.nodes["io"].params.get("sim") or {})
        sim["cell"] = dict(sim.get("cell") or {}, item_gap=list(gap))
        graph.nodes["io"].params["sim"] = sim
    if detector == "standin":
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "sorter"))
        from standins import StandinDetectorNode

        graph.nodes["detector"].cls = StandinDetectorNode
        graph.nodes["detector"].params = {}
    graph.nodes["monitor"].params["status_period"] = 1e6  # the table is the output
    sim = SimExecutor(graph.check(), seed=seed)
    t0 = time.perf_counter()
    with sim:
        pitch = (gap[1] if gap else 200.0) + 100.0  # mm per item, generously
        sim.run_until((items * pitch + 2000.0) / speed)  # the monitor stops it at `items`
        monitor = sim.nodes["monitor"]
        report = monitor.report()
        monitor.reported = True
    report["wall_seconds"] = time.perf_counter() - t0
    return report


def _gap(text):
    low, dash, high = text.partition("-")
    try:
        gap = (float(low), float(high))
    except ValueError:
        gap = None
    if not dash or gap is None or not 0 < gap[0] <= gap[1]:
        raise argparse.ArgumentTypeError("give a gap as MIN-MAX in mm, e.g. 100-200")
    return gap


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.sorter_sweep",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--items", type=int, default=200)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--speeds", type=float, nargs="+", default=[140.0], help="belt mm/s")
    p.add_argument("--gaps", type=_gap, nargs="+", default=[None],
                   help="item gaps MIN-MAX in mm (default: the cell's, 100-200)")  # fmt: skip
    p.add_argument("--faults", default="")
    p.add_argument("--detector", choices=("model", "standin"), default="model")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    print("speed mm/s  gap mm   seed  items  correct  wrong(timing)  rejected  jams  accuracy"
          "  placed  items/min  wall s")  # fmt: skip
    summary = {}
    for speed in args.speeds:
        for gap in args.gaps:
            gap_text = "%g-%g" % gap if gap else "default"
            for seed in args.seeds:
                r = run_once(args.items, seed, speed, args.faults, args.detector, gap)
                s = summary.setdefault((speed, gap_text), collections.Counter())
                s.update(items=r["items"], correct=r["correct"],
                         placed=r["correct"] + r["wrong_bin"] + r["jams"],
                         timing=r["wrong_bin_timing"] + r["jams"])  # fmt: skip
                s["per_min"] += (r["throughput_per_min"] or 0) / len(args.seeds)
                print("%10.0f  %7s  %4d  %5d  %7d  %6d(%d)  %9d  %4d  %7.2f%%  %5.1f%%  %9.1f"
                      "  %6.1f" % (
                    speed, gap_text, seed, r["items"], r["correct"], r["wrong_bin"],
                    r["wrong_bin_timing"], r["rejected"], r["jams"], 100 * (r["accuracy"] or 0),
                    100 * (r["placed_accuracy"] or 0),
                    r["throughput_per_min"] or 0, r["wall_seconds"]), flush=True)  # fmt: skip
                if args.json:
                    run = dict(r, speed=speed, gap=gap_text, seed=seed)
                    print(json.dumps(run, sort_keys=True), flush=True)
    print("\naccuracy = correct / items; placed = correct / items put in a bin on purpose")
    print("speed mm/s  gap mm   items/min  accuracy  placed  timing errors (wrong bin + jams)")
    for (speed, gap_text), s in summary.items():
        print("%10.0f  %7s  %9.1f  %7.2f%%  %5.1f%%  %d" % (
            speed, gap_text, s["per_min"], 100.0 * s["correct"] / max(s["items"], 1),
            100.0 * s["correct"] / max(s["placed"], 1), s["timing"]))  # fmt: skip
    good = [key for key, s in summary.items() if s["correct"] >= 0.99 * s["items"] > 0]
    for gap_text in dict.fromkeys(g for _, g in summary):
        fastest = max((speed for speed, g in good if g == gap_text), default=None)
        print("gap %s: highest speed with accuracy >= 99 %%: %s" % (
            gap_text, "%g mm/s" % fastest if fastest else "none tried"))  # fmt: skip


if __name__ == "__main__":
    main()
