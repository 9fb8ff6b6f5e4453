"""The detector as a node, fed by a camera node in another process, against the bare model in a
loop on the same frames.

    python -m benchmarks.detector                   # a table
    python -m benchmarks.detector --json            # every figure, as one JSON object
    python -m benchmarks.detector --quick           # a smoke run
    python -m benchmarks.detector --model apps/sorter/models/sorter.card.yaml --backend opencv

Frames: 640x480 renders of the simulated conveyor cell (sims.conveyor, items on a running
belt), or the images of a folder (--images DIR), rendered once and shared by both runs.

- bare: Detector.detect() called in a loop over the frames in this process; throughput is
  calls per second, latency the time of one call.
- node: a graph run by the process executor, one process per node: FrameSource publishes the
  frames as Images stamped with the graph clock; DetectorNode (newest frame only) publishes
  Detections; DetectionSink records when each arrives.
  - saturated: the source publishes at --overdrive times the bare rate, more than the
    detector can take, so the detector never waits for a frame (it skips to the newest).
    Throughput is detections per second at the sink.
  - paced: the source publishes at half the bare rate (at most 50 fps), so every frame finds
    the detector idle. Latency is the frame's stamp to the detections' arrival at the sink.
- added latency: node paced p50 minus bare p50, the cost of moving the frame to the detector
  and the detections on. Targets: node throughput >= 95% of bare, added latency <= 2 ms p50.
- rounds (--rounds, 3): bare, then saturated and paced node runs, then bare again, and so
  on; each round's node runs are compared with the bare runs just before and after them
  (this host's speed drifts by a quarter within minutes), and the report gives the median
  of the rounds.
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
from benchmarks.detector_nodes import DetectionSink, FrameSource
from nanobot.executors.process import ProcessExecutor
from nanobot.graph import Graph
from nanobot.nodes.detector import DetectorNode
from nanobot.vision import Detector

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SORTER_CARDS = os.path.join(ROOT, "apps", "sorter", "models", "*.card.yaml")
BUNDLED_MODEL = os.path.join(ROOT, "nanobot", "vision", "models", "selftest_grid.onnx")
TARGET_THROUGHPUT = 0.95
TARGET_ADDED_MS = 2.0
PACED_MAX_FPS = 50.0
TIMEOUT_S = 120.0


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


def bare_loop(detector, frames, calls, warmup):
    """Detector.detect on the frames in turn: calls per second and each call's ms."""
    for i in range(warmup):
        detector.detect(frames[i % len(frames)])
    times, stages = [], {}
    start = time.perf_counter()
    for i in range(calls):
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


def node_run(workdir, frames_path, model, backend, threads, fps, count, warmup, log_level):
    """Run source -> DetectorNode -> sink as three processes; the sink's figures."""
    out = os.path.join(workdir, "sink-%d.json" % int(fps * 1000))
    graph = Graph("bench-detector")
    graph.add(FrameSource, "camera", {"frames": frames_path, "fps": fps}, {"image": "camera/image"})
    graph.add(
        DetectorNode,
        "detector",
        {"model": model, "backend": backend, "threads": threads, "stats_period": 1.0},
        {"image": "camera/image"},
    )
    graph.add(DetectionSink, "sink", {"count": count, "warmup": warmup, "out": out})
    graph.check()
    ProcessExecutor(graph, log_level=log_level).run(until=TIMEOUT_S)
    if not os.path.exists(out):
        raise RuntimeError(
            "the node run (camera at %.0f fps) recorded no detections within %.0f s; run with "
            "--verbose to see the nodes' logs" % (fps, TIMEOUT_S)
        )
    with open(out) as f:
        rec = json.load(f)
    arrival = np.array(rec["arrival_ns"], np.int64)
    stamp = np.array(rec["stamp_ns"], np.int64)
    ids = np.array(rec["frame_id"], np.int64)
    span_s = (arrival[-1] - arrival[0]) / 1e9
    stats = rec["stats"] or {}
    stage_ms = {k[:-3]: v for k, v in stats.items() if k.endswith("_ms")}
    received_fps = (len(arrival) - 1) / span_s if span_s > 0 else None
    camera_span_s = (stamp[-1] - stamp[0]) / 1e9
    return {
        "camera_fps_requested": fps,
        "camera_fps": float((ids[-1] - ids[0]) / camera_span_s) if camera_span_s > 0 else None,
        "fps": received_fps,
        "detections": len(arrival),
        "frames_skipped": int(ids[-1] - ids[0] + 1 - len(ids)),
        "latency_ms": summary((arrival - stamp) / 1e6),
        "detector_stats": rec["stats"],
        # per detection, what the detector spent in detect() (its last stats report) and
        # the rest of the frame period: taking the frame, publishing, waiting for the CPU
        "stage_ms": stage_ms,
        "outside_detect_ms": (
            1e3 / received_fps - sum(stage_ms.values()) if received_fps and stage_ms else None
        ),
    }


def machine(detector):
    info = transport.machine()
    import cv2

    info["opencv"] = cv2.__version__
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        info["onnxruntime"] = None
    info["detector"] = detector.describe()
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
        with Detector.from_card(
            args.model, backend=args.backend, threads=args.threads or None
        ) as detector:
            backend = detector.backend.name
            progress("detector: %s" % detector.describe())

            def bare():
                b = bare_loop(detector, frames, args.count, args.warmup)
                progress("bare loop: %.1f fps, p50 %.2f ms" % (b["fps"], b["latency_ms"]["p50"]))
                return b

            bares, rounds, cpu = [bare()], [], transport.cpu_times()
            saturate_fps = args.overdrive * bares[0]["fps"]
            paced_fps = min(bares[0]["fps"] / 2, PACED_MAX_FPS)
            for _ in range(args.rounds):
                runs = {}
                for name, fps in (("saturated", saturate_fps), ("paced", paced_fps)):
                    runs[name] = node_run(
                        workdir, frames_path, args.model, backend, args.threads, fps,
                        args.count, args.warmup, log_level,
                    )  # fmt: skip
                    progress(
                        "node, %s (camera %.1f fps): %.1f fps, latency p50 %.2f ms"
                        % (name, fps, runs[name]["fps"], runs[name]["latency_ms"]["p50"])
                    )
                bares.append(bare())
                rounds.append(compare(bares[-2:], runs))
                cpu, before = transport.cpu_times(), cpu
                rounds[-1]["cpu_steal_percent"] = transport.steal_percent(before, cpu)
            info = machine(detector)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    throughput_ratio = float(np.median([r["throughput_ratio"] for r in rounds]))
    added_p50 = float(np.median([r["added_latency_ms_p50"] for r in rounds]))
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": info,
        "settings": {
            "model": os.path.relpath(args.model, ROOT)
            if args.model.startswith(ROOT)
            else args.model,
            "backend": backend,
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
        "added_latency_ms_p50": added_p50,
        "targets": {"throughput_ratio": TARGET_THROUGHPUT, "added_latency_ms_p50": TARGET_ADDED_MS},
        "meets_target": {
            "throughput": bool(throughput_ratio >= TARGET_THROUGHPUT),
            "latency": bool(added_p50 <= TARGET_ADDED_MS),
        },
    }


def compare(bares, runs):
    """One round's figures: its node runs against the bare runs just before and after them
    (pooled, so a host whose speed drifts is compared with itself at that time)."""
    bare_fps = sum(b["fps"] for b in bares) / len(bares)
    bare_p50 = sum(b["latency_ms"]["p50"] for b in bares) / len(bares)
    return {
        "bare_fps": bare_fps,
        "bare_latency_ms_p50": bare_p50,
        "saturated": runs["saturated"],
        "paced": runs["paced"],
        "throughput_ratio": runs["saturated"]["fps"] / bare_fps,
        "added_latency_ms_p50": runs["paced"]["latency_ms"]["p50"] - bare_p50,
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

    lines.append(row("bare loop", r["bare"][0]))
    for i, rnd in enumerate(r["rounds"]):
        sat, paced = rnd["saturated"], rnd["paced"]
        label = "round %d: node, camera %.0f fps"
        lines.append(
            row(
                label % (i + 1, sat["camera_fps_requested"]),
                sat,
                "%12.3f" % rnd["throughput_ratio"],
            )
        )
        lines.append(
            row(
                label % (i + 1, paced["camera_fps_requested"]),
                paced,
                "%12s %10.2f" % ("", rnd["added_latency_ms_p50"]),
            )
        )
        lines.append(row("bare loop", r["bare"][i + 1]))
        if rnd.get("cpu_steal_percent"):
            lines.append("  (the hypervisor took %.0f %% of the CPU time in this round)"
                         % rnd["cpu_steal_percent"])  # fmt: skip
    met = r["meets_target"]
    lines += [
        "",
        "node throughput / bare, median of rounds: %.3f (target >= %.2f: %s)"
        % (r["throughput_ratio"], TARGET_THROUGHPUT, "met" if met["throughput"] else "missed"),
        "added latency p50, median of rounds: %.2f ms (target <= %.1f ms: %s)"
        % (r["added_latency_ms_p50"], TARGET_ADDED_MS, "met" if met["latency"] else "missed"),
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
        "--count", type=int, help="calls / detections measured per run (500; 40 with --quick)"
    )
    parser.add_argument(
        "--warmup", type=int, help="calls / detections ignored first (30; 5 with --quick)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="node runs (saturated + paced), each between two bare runs (3; 1 with --quick)",
    )
    parser.add_argument(
        "--overdrive", type=float, default=1.25, help="saturated camera rate over the bare rate"
    )
    parser.add_argument("--verbose", action="store_true", help="show the nodes' logs")
    args = parser.parse_args(argv)
    args.count = args.count or (40 if args.quick else 500)
    args.warmup = args.warmup if args.warmup is not None else (5 if args.quick else 30)
    args.rounds = args.rounds or (1 if args.quick else 3)
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
