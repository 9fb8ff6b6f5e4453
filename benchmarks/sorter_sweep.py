"""The sorter's quality in simulation: accuracy vs belt speed, over seeds.

    python -m benchmarks.sorter_sweep --items 200 --seeds 1 2 3 4 5            # default speed
    python -m benchmarks.sorter_sweep --items 80 --seeds 1 2 --speeds 100 140 180 220 250
    python -m benchmarks.sorter_sweep --faults frame_drop=0.2 --items 100 --seeds 1

Each run is `python -m apps.sorter --fast` in-process (the simulation executor). The item
rate follows from the belt speed: items enter spaced by 40..160 mm of belt travel (the sim's
default cell), so items/min = speed / mean pitch. `--detector standin` (the default until the
sorter's model is trained) replaces the DetectorNode by the test stand-in that reports the
world's true boxes with noise (tests/sorter/standins.py); `--detector model` runs the
shipped model. Prints a table; --json prints every run's report as one JSON line.
"""

import argparse
import json
import os
import sys
import time

from apps.sorter import __main__ as sorter
from nanobot.executors.sim import SimExecutor


def run_once(items, seed, speed, faults, detector):
    argv = ["--items", str(items), "--seed", str(seed), "--speed", str(speed)]
    if faults:
        argv += ["--faults", faults]
    graph = sorter.build(sorter.parser().parse_args(argv), "sim")
    if detector == "standin":
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "sorter"))
        from standins import StandinDetectorNode

        graph.nodes["detector"].cls = StandinDetectorNode
        graph.nodes["detector"].params = {}
    graph.nodes["monitor"].params["status_period"] = 1e6  # the table is the output
    sim = SimExecutor(graph.check(), seed=seed)
    t0 = time.perf_counter()
    with sim:
        sim.run_until(items * 4.0 * 140.0 / speed)
        monitor = sim.nodes["monitor"]
        report = monitor.report()
        monitor.reported = True
    report["wall_seconds"] = time.perf_counter() - t0
    return report


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.sorter_sweep", description=__doc__)
    p.add_argument("--items", type=int, default=200)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    p.add_argument("--speeds", type=float, nargs="+", default=[140.0])
    p.add_argument("--faults", default="")
    p.add_argument("--detector", choices=("standin", "model"), default="standin")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    print("speed mm/s  seed  items  correct  wrong(timing)  rejected  jams  accuracy  placed"
          "  items/min  wall s")  # fmt: skip
    summary = {}
    for speed in args.speeds:
        for seed in args.seeds:
            r = run_once(args.items, seed, speed, args.faults, args.detector)
            s = summary.setdefault(speed, {"items": 0, "correct": 0, "placed": 0, "timing": 0})
            s["items"] += r["items"]
            s["correct"] += r["correct"]
            s["placed"] += r["correct"] + r["wrong_bin"] + r["jams"]
            s["timing"] += r["wrong_bin_timing"] + r["jams"]
            print("%10.0f  %4d  %5d  %7d  %6d(%d)  %9d  %4d  %7.2f%%  %5.1f%%  %9.1f  %6.1f" % (
                speed, seed, r["items"], r["correct"], r["wrong_bin"], r["wrong_bin_timing"],
                r["rejected"], r["jams"], 100 * (r["accuracy"] or 0),
                100 * (r["placed_accuracy"] or 0),
                r["throughput_per_min"] or 0, r["wall_seconds"]), flush=True)  # fmt: skip
            if args.json:
                print(json.dumps(dict(r, speed=speed, seed=seed), sort_keys=True), flush=True)
    print("\naccuracy = correct / items; placed = correct / items put in a bin on purpose")
    print("speed mm/s  accuracy  placed  timing errors (wrong bin for timing + jams)")
    for speed, s in summary.items():
        print("%10.0f  %7.2f%%  %5.1f%%  %d" % (
            speed, 100.0 * s["correct"] / max(s["items"], 1),
            100.0 * s["correct"] / max(s["placed"], 1), s["timing"]))  # fmt: skip


if __name__ == "__main__":
    main()
