"""`nanobot detect`: build engines, run a detector on a camera or file, benchmark backends.

    nanobot detect build MODEL [--precision fp16|fp32] [--cache-dir DIR]
    nanobot detect run MODEL --input URI [--backend B] [--max-frames N] [--json]
    nanobot detect bench MODEL [--backend B ...] [--frames N] [--json]
    nanobot detect selftest [--backend B]
    nanobot detect eval --model MODEL (--sim-seed S | --data DIR) [--frames N] [--json]

MODEL is a model card (.card.yaml), an ONNX file (with its card next to it, if any) or, for
TensorRT, an engine file. `run` reads any hal.camera URI (csi://0, v4l2:///dev/video0,
file://clip.mp4, a plain file or folder path, ...): it opens cameras, so it is the one part
of nanobot.vision that imports hal.
"""

import argparse
import json
import logging
import os
import sys
import time

import numpy as np

from . import backends, cli_eval
from .backends.base import BackendError
from .card import CardError
from .detector import Detector
from .onnxinfo import OnnxFormatError

__all__ = ["add_parser", "main"]

SELFTEST_MODEL = os.path.join(os.path.dirname(__file__), "models", "selftest_grid.onnx")
BACKEND_CHOICES = ("auto", *backends.BACKENDS)


def add_parser(subparsers):
    """Add the `detect` command group to an argparse subparsers object."""
    det = subparsers.add_parser("detect", help="object detection: build, run, bench, selftest")
    sub = det.add_subparsers(title="detect commands", metavar="COMMAND")

    def model_args(sp, backend=True):
        sp.add_argument("model", help="model card (.card.yaml), ONNX file or TensorRT engine")
        if backend:
            sp.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
        sp.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
        sp.add_argument("--cache-dir", help="where TensorRT engines are cached")

    sp = sub.add_parser("build", help="build (or find cached) the TensorRT engine of a model")
    model_args(sp, backend=False)
    sp.set_defaults(func=cmd_build)

    sp = sub.add_parser("run", help="print the detections in each frame of a camera or file")
    model_args(sp)
    sp.add_argument("--input", required=True, help="camera URI or file/folder path")
    sp.add_argument("--max-frames", type=int, help="stop after this many frames")
    sp.add_argument("--conf", type=float, help="confidence threshold (default: the card's)")
    sp.add_argument("--iou", type=float, help="NMS IoU threshold (default: the card's)")
    sp.add_argument("--json", action="store_true", help="one JSON object per frame")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("bench", help="latency and FPS of a model on each available backend")
    sp.add_argument("model", help="model card (.card.yaml) or ONNX file")
    sp.add_argument(
        "--backend",
        action="append",
        choices=backends.BACKENDS,
        help="backend to measure (repeatable; default: every available one)",
    )
    sp.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
    sp.add_argument("--cache-dir", help="where TensorRT engines are cached")
    sp.add_argument("--frames", type=int, default=200, help="timed frames per backend")
    sp.add_argument("--warmup", type=int, default=10, help="untimed frames first")
    sp.add_argument("--size", default="640x480", help="frame size WxH (default 640x480)")
    sp.add_argument("--json", action="store_true", help="print JSON")
    sp.set_defaults(func=cmd_bench)

    sp = sub.add_parser("selftest", help="check a backend end to end on a tiny bundled model")
    sp.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    sp.add_argument("--precision", default="fp16", choices=("fp16", "fp32"))
    sp.add_argument("--cache-dir", help="where TensorRT engines are cached")
    sp.set_defaults(func=cmd_selftest)

    cli_eval.add_parser(sub, wrap=_user_errors)
    return det


def main(argv=None):
    """Run `detect ...` on its own (python -m nanobot.vision.cli detect ...)."""
    parser = argparse.ArgumentParser(prog="nanobot")
    add_parser(parser.add_subparsers(metavar="COMMAND"))
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    return args.func(args)


def _user_errors(func):
    """Print what went wrong as one line (no traceback) and return exit status 2."""

    def wrapper(args):
        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
        try:
            return func(args) or 0
        except (BackendError, CardError, OnnxFormatError, ValueError, OSError, ImportError) as e:
            print("nanobot: error: %s" % e, file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return 130

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


def _detector(args, backend=None, **kwargs):
    return Detector.from_card(
        args.model,
        backend=backend or args.backend,
        precision=args.precision,
        cache_dir=args.cache_dir,
        **kwargs,
    )


@_user_errors
def cmd_build(args):
    """Build the engine where there is none yet (minutes on a Nano), then report it."""
    from .card import ModelCard

    card = ModelCard.for_model(args.model)
    shape = (1, 3, *card.input_size) if card.input_size else None
    with backends.load(card.model, "tensorrt", args.precision, args.cache_dir, shape) as b:
        print("%s engine %s (%s)" % ("built" if b.built else "cached", b.engine_path, b.describe()))


@_user_errors
def cmd_run(args):
    """Detections per frame, as text or JSON lines."""
    import hal.camera

    uri = args.input if "://" in args.input else "file://" + os.path.abspath(args.input)
    with _detector(args, conf=args.conf, iou=args.iou) as detector:
        print("nanobot: %s" % detector.describe(), file=sys.stderr)
        try:
            camera = hal.camera.open(uri)
        except hal.camera.CameraError as e:
            raise OSError(str(e)) from None
        with camera:
            for n, (image, stamp, seq) in enumerate(camera, 1):
                found = detector.detect(image)
                print(_frame_line(seq, stamp, found, detector.timing, args.json), flush=True)
                if args.max_frames and n >= args.max_frames:
                    break


def _frame_line(seq, stamp, found, timing, as_json):
    items = [
        {
            "label": found.label(i),
            "class_id": int(found.class_ids[i]),
            "score": round(float(found.scores[i]), 4),
            "box": [round(float(v), 1) for v in found.boxes[i]],
        }
        for i in range(len(found))
    ]
    if as_json:
        record = {"frame": seq, "stamp": stamp, "detections": items}
        record["ms"] = {k: round(v, 2) for k, v in timing.items()}
        return json.dumps(record)
    text = "; ".join(
        "%s %.2f [%s]" % (d["label"], d["score"], ", ".join("%.0f" % v for v in d["box"]))
        for d in items
    )
    return "frame %d (%.1f ms): %d found%s" % (
        seq,
        sum(timing.values()),
        len(items),
        ": " + text if text else "",
    )


@_user_errors
def cmd_bench(args):
    """Per backend: detect() latency percentiles and FPS, and inference alone."""
    width, height = (int(v) for v in args.size.lower().split("x"))
    names = args.backend or [n for n, (ok, _) in backends.availability().items() if ok]
    frame = np.random.RandomState(0).randint(0, 256, (height, width, 3)).astype(np.uint8)
    results = []
    for name in names:
        with _detector(args, backend=name) as detector:
            for _ in range(args.warmup):
                detector.detect(frame)
            total, infer = [], []
            for _ in range(args.frames):
                t0 = time.perf_counter()
                detector.detect(frame)
                total.append(1e3 * (time.perf_counter() - t0))
                infer.append(detector.timing["infer"])
            results.append(_figures(name, detector, total, infer))
    if args.json:
        print(json.dumps({"model": args.model, "frame": [width, height], "results": results}))
    else:
        print("%-12s %8s %8s %8s %10s  %s" % ("backend", "p50 ms", "p90 ms", "fps", "infer ms", ""))
        for r in results:
            print(
                "%-12s %8.2f %8.2f %8.1f %10.2f  %s"
                % (r["backend"], r["p50_ms"], r["p90_ms"], r["fps"], r["infer_ms"], r["detail"])
            )


def _figures(name, detector, total, infer):
    total = np.array(total)
    return {
        "backend": name,
        "detail": detector.backend.describe(),
        "input": list(detector.input_size),
        "frames": len(total),
        "p50_ms": float(np.percentile(total, 50)),
        "p90_ms": float(np.percentile(total, 90)),
        "mean_ms": float(total.mean()),
        "fps": float(1e3 / total.mean()),
        "infer_ms": float(np.median(infer)),
    }


@_user_errors
def cmd_selftest(args):
    """Run the bundled grid model: a red square must come back as one box, exactly."""
    frame = np.zeros((96, 128, 3), np.uint8)
    frame[16:32, 32:48] = (0, 0, 255)
    with Detector.from_card(
        SELFTEST_MODEL, backend=args.backend, precision=args.precision, cache_dir=args.cache_dir
    ) as detector:
        found = detector.detect(frame)
        print("nanobot: %s" % detector.backend.describe())
    ok = (
        len(found) == 1
        and found.label(0) == "red"
        and np.allclose(found.boxes[0], [32, 16, 48, 32], atol=0.5)
    )
    boxes = ", ".join(
        "%s %.2f %s" % (found.label(i), found.scores[i], found.boxes[i].round(1).tolist())
        for i in range(len(found))
    )
    print("selftest %s: found %s" % ("passed" if ok else "FAILED", boxes or "nothing"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
