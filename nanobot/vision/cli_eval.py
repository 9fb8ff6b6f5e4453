"""`nanobot detect eval`: a detector's mAP, precision, recall and speed on labelled frames.

    nanobot detect eval --model apps/sorter/models/sorter.card.yaml --sim-seed 1000 --frames 300
    nanobot detect eval --model mine.onnx --data data/val --json

Frames come from the simulated conveyor cell (``--sim-seed``: freshly rendered, with the
sim's lighting changes and sensor noise; ``--faults`` adds distractors and the like) or from
a YOLO-layout folder (``--data``). Two passes over the same frames: one at confidence 0.001
for AP, one at the model's own thresholds timing detect() (pre-processing, inference,
decoding and NMS: what a single camera stream costs).
"""

import json
import sys
import time

import numpy as np

from .datasets import Sample, YoloDataset
from .detector import Detector
from .evaluate import Evaluation

__all__ = ["add_parser", "evaluate", "sim_samples"]

AP_CONF = 0.001


def add_parser(subparsers, wrap=lambda f: f):
    """Add `eval` to the `detect` command's subparsers (`wrap`: its error handling)."""
    sp = subparsers.add_parser("eval", help="mAP, precision, recall and FPS on labelled frames")
    sp.add_argument("--model", required=True, help="model card (.card.yaml) or ONNX file")
    source = sp.add_mutually_exclusive_group(required=True)
    source.add_argument("--sim-seed", type=int, help="render the conveyor sim with this seed")
    source.add_argument("--data", help="a YOLO dataset folder (images/, labels/)")
    sp.add_argument("--frames", type=int, default=300, help="frames to render (sim)")
    sp.add_argument("--every", type=float, default=0.25, help="sim seconds between frames")
    sp.add_argument("--faults", default="", help="sim faults, e.g. distractors=0.2,touching=0.2")
    sp.add_argument("--backend", default="auto", help="auto, onnxruntime, opencv or tensorrt")
    sp.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
    sp.add_argument("--cache-dir", help="where TensorRT engines are cached")
    sp.add_argument(
        "--min-visibility",
        type=float,
        default=0.0,
        help="ground truth less visible than this is not required (default 0: all is)",
    )
    sp.add_argument("--json", action="store_true", help="print the figures as JSON")
    sp.set_defaults(func=wrap(cmd_eval))
    return sp


def sim_samples(seed, frames, faults="", every=0.25):
    """`frames` labelled frames of the simulated conveyor cell (sims.conveyor) with `seed`."""
    from sims.conveyor import CLASSES, Faults, World
    from sims.conveyor.export import frames as labelled_frames

    world = World(seed=seed, faults=Faults.parse(faults))
    for n, (image, boxes) in enumerate(labelled_frames(world, frames, every)):
        yield (
            Sample(
                "seed%d-%06d" % (seed, n),
                image,
                np.array([b[2:6] for b in boxes], np.float32).reshape(-1, 4),
                np.array([CLASSES.index(b.cls) for b in boxes], np.int64),
                np.array([b.visibility for b in boxes], np.float32),
            ),
            list(CLASSES),
        )


def evaluate(detector, timed, samples, class_names, min_visibility=0.0):
    """Figures of `detector` (run at a low threshold) on `samples` [(Sample, names)] and
    the speed of `timed` (the same model at its operating thresholds) on the same frames."""
    frames = []
    ev = Evaluation(detector.class_names, conf=timed.conf, min_visibility=min_visibility)
    for sample, names in samples:
        ids = _class_ids(sample.class_ids, names, detector.class_names)
        ev.add(detector.detect(sample.image), sample.boxes, ids, sample.visibility)
        frames.append(sample.image)
    for image in frames[:10]:  # warm up
        timed.detect(image)
    stages, start = [], time.perf_counter()
    for image in frames:
        timed.detect(image)
        stages.append([timed.timing[k] for k in ("pre", "infer", "post")])
    elapsed = time.perf_counter() - start
    figures = ev.summary()
    median = np.median(np.array(stages).reshape(-1, 3), axis=0)
    figures["speed"] = {
        "backend": timed.backend.describe(),
        "input": list(timed.input_size),
        "fps": round(len(frames) / elapsed, 1) if frames else None,
        "ms_median": dict(zip(("pre", "infer", "post"), (round(float(v), 2) for v in median))),
    }
    return figures


def _class_ids(ids, names, model_names):
    """Ground-truth class ids renumbered from the source's names to the model's."""
    if not names or list(names) == list(model_names):
        return ids
    missing = sorted(set(names) - set(model_names))
    if missing:
        raise ValueError(
            "the model knows no class %s of the frames; its classes: %s"
            % (", ".join(missing), ", ".join(model_names))
        )
    table = np.array([model_names.index(n) for n in names], np.int64)
    return table[ids]


def cmd_eval(args):
    """Print the figures of one model on one set of frames."""
    kwargs = dict(backend=args.backend, precision=args.precision, cache_dir=args.cache_dir)
    with Detector.from_card(args.model, conf=AP_CONF, **kwargs) as detector, Detector.from_card(
        args.model, **kwargs
    ) as timed:
        if args.data:
            dataset = YoloDataset(args.data)
            samples = ((s, dataset.class_names) for s in dataset)
            source = {"data": args.data}
        else:
            samples = sim_samples(args.sim_seed, args.frames, args.faults, args.every)
            source = {"sim_seed": args.sim_seed, "faults": args.faults, "every": args.every}
        figures = evaluate(detector, timed, samples, detector.class_names, args.min_visibility)
    figures = dict(model=args.model, source=source, **figures)
    print(json.dumps(figures, indent=2) if args.json else format_figures(figures))
    return 0


def format_figures(f):
    """The figures as a short table for people."""
    lines = [
        "%s on %d frames (%s)"
        % (f["model"], f["images"], ", ".join("%s %s" % kv for kv in f["source"].items())),
        "mAP@0.5 %s   mAP@0.5:0.95 %s   recall (fully visible, conf %.2f) %s of %d"
        % (f["map50"], f["map50_95"], f["conf"], f["recall_fully_visible"], f["fully_visible"]),
        "%-10s %6s %6s %9s %7s %7s %8s" % ("class", "gt", "AP50", "AP50-95", "P", "R", "R full"),
    ]
    for name, c in f["classes"].items():
        lines.append(
            "%-10s %6d %6s %9s %7s %7s %8s"
            % (name, c["ground_truth"], c["ap50"], c["ap50_95"], c["precision"], c["recall"],
               c["recall_fully_visible"])
        )  # fmt: skip
    s = f["speed"]
    lines.append(
        "speed: %.1f frames/s single stream (median ms: pre %.2f, infer %.2f, post %.2f) on %s"
        % (s["fps"], s["ms_median"]["pre"], s["ms_median"]["infer"], s["ms_median"]["post"],
           s["backend"])
    )  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nanobot.vision.cli_eval")
    add_parser(parser.add_subparsers())
    parsed = parser.parse_args(["eval", *sys.argv[1:]])
    sys.exit(parsed.func(parsed))
