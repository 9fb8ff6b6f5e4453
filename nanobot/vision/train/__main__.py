"""python -m nanobot.vision.train --data DIR --out MODEL.onnx [options]"""

import argparse
import logging
import os
import sys

# OpenMP threads that sleep instead of spinning while they wait: on a machine shared with
# other work, spinning threads burn the cores they wait for (training ran twice as fast
# beside other jobs with this). Set before torch loads its OpenMP runtime.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import train


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m nanobot.vision.train",
        description="Train a small YOLOv8-layout detector on a YOLO dataset; write ONNX + card.",
    )
    parser.add_argument(
        "--data", required=True, nargs="+", help="YOLO datasets: images/, labels/, data.yaml"
    )
    parser.add_argument("--out", required=True, help="ONNX file to write (card written next to it)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=32, help="images per batch")
    parser.add_argument("--imgsz", default="320x240", help="input WxH, multiples of 16")
    parser.add_argument("--lr", type=float, default=0.004, help="peak learning rate (AdamW)")
    parser.add_argument("--width", type=float, default=1.0, help="channel multiplier")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--edge-weight",
        type=float,
        default=1.0,
        help="draw frames with objects cut by the frame's edge this many times as often",
    )
    parser.add_argument("--names", help="class names, comma-separated (default: data.yaml)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    try:
        import torch  # noqa: F401
    except ImportError:
        print("training needs torch: pip install 'nanobot[train]'", file=sys.stderr)
        return 2
    try:
        width, height = (int(v) for v in args.imgsz.lower().split("x"))
        train(
            args.data,
            args.out,
            epochs=args.epochs,
            batch_size=args.batch,
            input_size=(height, width),
            lr=args.lr,
            width=args.width,
            seed=args.seed,
            threads=args.threads,
            names=args.names.split(",") if args.names else None,
            edge_weight=args.edge_weight,
        )
    except (ValueError, OSError) as e:
        print("nanobot.vision.train: error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
