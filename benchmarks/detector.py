"""The detector as a node, fed by a camera node in another process, against the bare model in a
loop on the same frames.

    python -m benchmarks.detector                   # a table
    python -m benchmarks.detector --json            # every figure, as one JSON object
    python -m benchmarks.detector --quick           # a smoke run
    python -m benchmarks.detector --model apps/sorter/models/sorter.card.yaml --backend opencv

Frames: 640x480 renders of the simulated conveyor cell (sims.conveyor, items on a running
belt), or the images of a folder (--images DIR), rendered once and shared by both runs.

One graph, run by the process executor (one process per node), does everything in phases:
bare, saturated, bare, paced, bare, saturated, ... (--rounds of four after the first bare),
each a few seconds long and seconds after the last. This host's speed drifts by a quarter
within a minute, so each node phase is compared with the bare phases just before and after.

- bare: Detector.detect() called in a loop over the frames by the Conductor node, while the
  camera is idle: back to back (throughput: calls per second), then once per period at
  the paced rate below (latency: the time of one call).
- node: FrameSource publishes the frames as Images stamped with the graph clock, at the rate
  the Conductor asks; DetectorNode (newest frame only) publishes Detections; the Conductor
  records when each arrives.
  - saturated: the source publishes at --overdrive times the first bare rate, more than the
    detector can take, so the detector never waits for a frame (it skips to the newest).
    Throughput is detections per second at the Conductor. The detector's stats reports
    (every 0.25 s) also give the share of its time spent in detect() in that phase: what
    the node's own work, and waiting for a frame or a CPU, leave to the model, free of the
    drift between phases.
  - paced: the source publishes at half the bare rate (at most 50 fps), so every frame finds
    the detector idle. Latency is the frame's stamp to the detections' arrival.
- added latency: node paced p50 minus bare paced p50, the cost of moving the frame to the
  detector and the detections on. (A model called once per frame period, after the CPU
  idled, takes longer than one called back to back, node or not: 0.5..1 ms here. The report
  also gives the node against the back-to-back loop.) Targets: node throughput >= 95% of
  bare, added latency <= 2 ms p50. The report gives the median over the rounds.
- steal: on a virtual machine, the share of CPU time the hypervisor gave to other guests
  during each round (from /proc/stat). Figures from rounds with much of it are not the
  framework's.
- --threads caps the CPU threads of one inference, bare and node alike. On two cores the
  default (ONNX Runtime's: one per core) has the node's inference compete with the camera
  process for both cores, which the bare loop never has to.
"""

import argparse
import datetime
import glob
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

from benchmarks import transport
from benchmarks.detector_nodes import Conductor, FrameSource
from nanobot.executors.process import ProcessExecutor
from nanobot.graph import Graph
from nanobot.nodes.detector import DetectorNode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SORTER_CARDS = os.path.join(ROOT, "apps", "sorter", "models", "*.card.yaml")
BUNDLED_MODEL = os.path.join(ROOT, "nanobot", "vision", "models", "selftest_grid.onnx")
TARGET_THROUGHPUT = 0.95
TARGET_ADDED_MS = 2.0
PACED_MAX_FPS = 50.0


def default_model():
    """The sorter's model card when the repository has one, else the bundled test model."""
    cards = sorted(glob.glob(SORTER_CARDS))
    return cards[0] if cards else BUNDLED_MODEL


# ------------------------------------------------------------------ measuring


def render_frames(count, seed=1, width=640, height=480):
    """`count` camera frames of the simulated cell with items on a running belt."""
    from sims.conveyor.world import World

    world = World(seed=seed)
    world.set_motor(0.6, direction=1)
    for _ in range(90):  # 3 s: the first items reach the camera's view
        world.step(1 / 30)
    frames = []
    while len(frames) < count:
        world.step(1 / 30)
        frame = world.render()
        if frame is not None:
            frames.append(frame)
    return np.stack(frames)


def read_frames(folder, count):
    """Up to `count` images of `folder` (sorted by name), all of the first one's size."""
    import cv2

    paths = sorted(
        p
        for p in glob.glob(os.path.join(folder, "*"))
        if os.path.splitext(p)[1].lower() in (".jpg", ".jpeg", ".png", ".bmp")
    )[:count]
    images = [cv2.imread(p) for p in paths]
    images = [i for i in images if i is not None]
    if not images:
        raise RuntimeError("no images (jpg, png, bmp) in %s" % folder)
    h, w = images[0].shape[:2]
    return np.stack([cv2.resize(i, (w, h)) if i.shape[:2] != (h, w) else i for i in images])


def summary(values):
    """min, p50, p90, p99, max, mean and count of a list of milliseconds."""
    a = np.asarray(values, np.float64)
    p50, p90, p99 = np.percentile(a, [50, 90, 99])
    return {
        "count": int(a.size),
        "min": float(a.min()),
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
        "max": float(a.max()),
        "mean": float(a.mean()),
    }


def bare_loop(detector, frames, calls, warmup, fps=None):
    """Detector.detect on the frames in turn, back to back or, given `fps`, one call per
    period as a camera would pace them: calls per second and each call's ms."""
    for i in range(warmup):
        detector.detect(frames[i % len(frames)])
    times, stages = [], {}
    start = time.perf_counter()
    for i in range(calls):
        if fps:
            time.sleep(max(0.0, start + i / fps - time.perf_counter()))
        t0 = time.perf_counter()
        detector.detect(frames[i % len(frames)])
        times.append(1e3 * (time.perf_counter() - t0))
        for key, ms in detector.timing.items():
            stages[key] = stages.get(key, 0.0) + ms
    elapsed = time.perf_counter() - start
    return {
        "fps": calls / elapsed,
        "latency_ms": summary(times),
        "stage_ms": {key: total / calls for key, total in stages.items()},
        "calls": calls,
    }


def run_graph(workdir, frames_path, args, log_level):
    """The benchmark's graph, run to the end: the Conductor's record."""
    spec = os.path.join(workdir, "spec.json")
    out = os.path.join(workdir, "record.json")
    with open(spec, "w") as f:
        json.dump(
            {
                "model": args.model,
                "backend": args.backend,
                "threads": args.threads,
                "frames": frames_path,
                "count": args.count,
                "warmup": args.warmup,
                "rounds": args.rounds,
                "overdrive": args.overdrive,
                "paced_max_fps": PACED_MAX_FPS,
            },
            f,
        )
    graph = Graph("bench-detector")
    graph.add(FrameSource, "camera", {"frames": frames_path}, {"image": "camera/image"})
    graph.add(
        DetectorNode,
        "detector",
        {"model": args.model, "backend": args.backend, "threads": args.threads,
         "stats_period": 0.25},
        {"image": "camera/image"},
    )  # fmt: skip
    graph.add(Conductor, "conductor", {"spec": spec, "out": out})
    graph.check()
    # Generous: model loading, then every phase at the paced rate of a slow model.
    timeout_s = 60 + 4 * args.rounds * (args.count + args.warmup) / 5.0
    ProcessExecutor(graph, log_level=log_level).run(until=timeout_s)
    if not os.path.exists(out):
        raise RuntimeError(
            "the benchmark's graph did not finish within %.0f s; run with --verbose to see "
            "the nodes' logs" % timeout_s
        )
    with open(out) as f:
        return json.load(f)


def node_figures(phase):
    """A node phase's figures from what the Conductor recorded."""
    arrival = np.array(phase["arrival_ns"], np.int64)
    stamp = np.array(phase["stamp_ns"], np.int64)
    ids = np.array(phase["frame_id"], np.int64)
    span_s = (arrival[-1] - arrival[0]) / 1e9
    # The first report covers time before the phase began; the others lie within it.
    reports = phase["stats"][1:]
    stats = reports[-1] if reports else (phase["stats"] or [{}])[-1]
    stage_ms = {k[:-3]: v for k, v in stats.items() if k.endswith("_ms")}
    received_fps = (len(arrival) - 1) / span_s if span_s > 0 else None
    camera_span_s = (stamp[-1] - stamp[0]) / 1e9
    return {
        "camera_fps_requested": phase["camera_fps_requested"],
        "camera_fps": float((ids[-1] - ids[0]) / camera_span_s) if camera_span_s > 0 else None,
        "fps": received_fps,
        "detections": len(arrival),
        "frames_skipped": int(ids[-1] - ids[0] + 1 - len(ids)),
        "latency_ms": summary((arrival - stamp) / 1e6),
        "detector_stats": stats,
        "detect_share": detect_share(reports),
        # per detection, what the detector spent in detect() (its last stats report) and
        # the rest of the frame period: taking the frame, publishing, waiting for the CPU
        "stage_ms": stage_ms,
        "outside_detect_ms": (
            1e3 / received_fps - sum(stage_ms.values()) if received_fps and stage_ms else None
        ),
    }


def detect_share(reports):
    """The share of the detector node's time spent in detect(), from its stats reports
    (each: fps, frames and ms per stage over its period): what the node's own work
    (receiving, decoding, publishing, waiting for a frame or a CPU) leaves to the model.
    Measured within one phase, so a host that speeds up or slows down between phases does
    not move it as it moves the throughput ratio. None without a report."""
    busy_ms = sum(r["frames"] * sum(v for k, v in r.items() if k.endswith("_ms")) for r in reports)
    wall_ms = sum(1e3 * r["frames"] / r["fps"] for r in reports if r["fps"] > 0)
    return busy_ms / wall_ms if wall_ms > 0 else None


def machine(detector):
    info = transport.machine()
    import cv2

    info["opencv"] = cv2.__version__
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    info["detector"] = detector
    return info


def run(args, progress=lambda line: None):
    if args.images:
        frames = read_frames(args.images, args.frames)
        source = "images in %s" % args.images
    else:
        frames = render_frames(args.frames)
        source = "sims.conveyor renders (seed 1, belt at duty 0.6)"
    workdir = tempfile.mkdtemp(prefix="nb-bench-det-")
    log_level = "INFO" if args.verbose else "WARNING"
    try:
        frames_path = os.path.join(workdir, "frames.npy")
        np.save(frames_path, frames)
        progress("running %d rounds of phases (bare, saturated, bare, paced)" % args.rounds)
        record = run_graph(workdir, frames_path, args, log_level)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    phases = record["phases"]
    bares = [_bare(p) for p in phases[0::2]]
    rounds = []
    for i in range(args.rounds):
        sat, paced = phases[4 * i + 1], phases[4 * i + 3]
        runs = {"saturated": node_figures(sat), "paced": node_figures(paced)}
        rounds.append(compare(bares[2 * i : 2 * i + 3], runs))
        rounds[-1]["cpu_steal_percent"] = transport.steal_percent(
            sat["cpu"][0], phases[4 * i + 4]["cpu"][1]
        )
        progress(
            "round %d: throughput %.3f of bare, added latency p50 %.2f ms"
            % (i + 1, rounds[-1]["throughput_ratio"], rounds[-1]["added_latency_ms_p50"])
        )
    throughput_ratio = float(np.median([r["throughput_ratio"] for r in rounds]))
    shares = [r["saturated"]["detect_share"] for r in rounds]
    detect_share_ = float(np.median(shares)) if None not in shares else None
    added_p50 = float(np.median([r["added_latency_ms_p50"] for r in rounds]))
    vs_loop_p50 = float(np.median([r["added_latency_vs_loop_ms_p50"] for r in rounds]))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(record["detector"]),
        "settings": {
            "model": os.path.relpath(args.model, ROOT)
            if args.model.startswith(ROOT)
            else args.model,
            "backend": record["backend"],
            "threads": args.threads or "default",
            "frames": len(frames),
            "frame_shape": list(frames.shape[1:]),
            "frame_source": source,
            "count": args.count,
            "warmup": args.warmup,
            "overdrive": args.overdrive,
            "rounds": args.rounds,
        },
        "bare": bares,
        "rounds": rounds,
        "throughput_ratio": throughput_ratio,
        "saturated_detect_share": detect_share_,
        "added_latency_ms_p50": added_p50,
        "added_latency_vs_loop_ms_p50": vs_loop_p50,
        "targets": {"throughput_ratio": TARGET_THROUGHPUT, "added_latency_ms_p50": TARGET_ADDED_MS},
        "meets_target": {
            "throughput": bool(throughput_ratio >= TARGET_THROUGHPUT),
            "latency": bool(added_p50 <= TARGET_ADDED_MS),
        },
    }


def _bare(phase):
    return {k: phase[k] for k in ("fps", "latency_ms", "stage_ms", "calls", "paced")}


def compare(bares, runs):
    """One round's figures: `bares` are the bare phases before the saturated run, between it
    and the paced run, and after that; each node run is compared with the two around it (a
    host whose speed drifts is then compared with itself at that time).

    The paced node run is compared with the bare model called at the same rate: a model
    that runs once per camera frame, after the CPU idled, takes longer than one called back
    to back, node or not; `added_latency_vs_loop_ms_p50` compares it with the latter."""
    bare_fps = (bares[0]["fps"] + bares[1]["fps"]) / 2
    loop_p50 = (bares[1]["latency_ms"]["p50"] + bares[2]["latency_ms"]["p50"]) / 2
    paced_p50 = (
        bares[1]["paced"]["latency_ms"]["p50"] + bares[2]["paced"]["latency_ms"]["p50"]
    ) / 2
    node_p50 = runs["paced"]["latency_ms"]["p50"]
    return {
        "bare_fps": bare_fps,
        "bare_latency_ms_p50": loop_p50,
        "bare_paced_latency_ms_p50": paced_p50,
        "saturated": runs["saturated"],
        "paced": runs["paced"],
        "throughput_ratio": runs["saturated"]["fps"] / bare_fps,
        "added_latency_ms_p50": node_p50 - paced_p50,
        "added_latency_vs_loop_ms_p50": node_p50 - loop_p50,
    }


def format_table(r):
    s = r["settings"]
    lines = [
        "detector node vs bare loop, %s" % r["date"],
        "model %s (%s, threads %s), %d frames %s, %d rounds"
        % (
            s["model"],
            s["backend"],
            s["threads"],
            s["frames"],
            "x".join(map(str, s["frame_shape"])),
            s["rounds"],
        ),
        "",
        "%-30s %8s %8s %8s %12s %10s" % ("", "fps", "p50 ms", "p90 ms", "through/bare", "added ms"),
    ]

    def row(label, run, extra=""):
        lat = run["latency_ms"]
        return "%-30s %8.1f %8.2f %8.2f %s" % (label, run["fps"], lat["p50"], lat["p90"], extra)

    def bare(run):
        return [row("bare loop", run), row("bare loop, paced", run["paced"])]

    lines += bare(r["bare"][0])
    for i, rnd in enumerate(r["rounds"]):
        sat, paced = rnd["saturated"], rnd["paced"]
        label = "round %d: node, camera %.0f fps"
        lines += [
            row(
                label % (i + 1, sat["camera_fps_requested"]),
                sat,
                "%12.3f" % rnd["throughput_ratio"],
            ),
            *bare(r["bare"][2 * i + 1]),
            row(
                label % (i + 1, paced["camera_fps_requested"]),
                paced,
                "%12s %10.2f" % ("", rnd["added_latency_ms_p50"]),
            ),
            *bare(r["bare"][2 * i + 2]),
        ]
        if rnd.get("cpu_steal_percent"):
            lines.append("  (the hypervisor took %.0f %% of the CPU time in this round)"
                         % rnd["cpu_steal_percent"])  # fmt: skip
    met = r["meets_target"]
    lines += [
        "",
        "node throughput / bare, median of rounds: %.3f (target >= %.2f: %s)"
        % (r["throughput_ratio"], TARGET_THROUGHPUT, "met" if met["throughput"] else "missed"),
        "share of the saturated detector's time in detect(), median of rounds: %s"
        % ("-" if r["saturated_detect_share"] is None else "%.3f" % r["saturated_detect_share"]),
        "added latency p50 (against the bare model at the same rate), median of rounds: "
        "%.2f ms (target <= %.1f ms: %s)"
        % (r["added_latency_ms_p50"], TARGET_ADDED_MS, "met" if met["latency"] else "missed"),
        "added latency p50 against the back-to-back loop, median of rounds: %.2f ms"
        % r["added_latency_vs_loop_ms_p50"],
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.detector",
        description="The detector node fed by a camera node in another process, against the "
        "bare model called in a loop on the same frames.",
    )
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--quick", action="store_true", help="few frames: a smoke run")
    parser.add_argument(
        "--model",
        default=default_model(),
        help="model card or ONNX file (default: the sorter's card when the repository has "
        "one, else the bundled test model)",
    )
    parser.add_argument("--backend", default="auto", help="auto, tensorrt, onnxruntime, opencv")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="CPU threads per inference, bare and node alike (0: the backend's default)",
    )
    parser.add_argument("--images", help="a folder of images to use instead of sim renders")
    parser.add_argument("--frames", type=int, default=60, help="distinct frames (default 60)")
    parser.add_argument(
        "--count", type=int, help="calls / detections measured per phase (200; 40 with --quick)"
    )
    parser.add_argument(
        "--warmup", type=int, help="calls / detections ignored first (20; 5 with --quick)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="rounds of phases: saturated, bare, paced, bare (5; 1 with --quick)",
    )
    parser.add_argument(
        "--overdrive", type=float, default=1.25, help="saturated camera rate over the bare rate"
    )
    parser.add_argument("--verbose", action="store_true", help="show the nodes' logs")
    args = parser.parse_args(argv)
    args.count = args.count or (40 if args.quick else 200)
    args.warmup = args.warmup if args.warmup is not None else (5 if args.quick else 20)
    args.rounds = args.rounds or (1 if args.quick else 5)
    if args.quick:
        args.frames = min(args.frames, 10)
    if args.count < 2 or args.overdrive <= 1:
        parser.error("--count must be at least 2 and --overdrive above 1")

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    try:
        report = run(args, progress)
    except (RuntimeError, ValueError, OSError) as e:
        print("benchmarks.detector: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
