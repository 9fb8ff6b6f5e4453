"""Render a clip of the cell run by the oracle controller, and print what happened.

    python -m sims.conveyor --seed 1 --seconds 20 --out /tmp/clip
    python -m sims.conveyor --seed 1 --seconds 5 --faults frame_drop=0.1,touching=0.3 --out DIR
    python -m sims.conveyor --seed 1 --seconds 9 --out . --picture docs/img/sims-conveyor.png

Writes DIR/conveyor.avi (camera view left, overview right; MJPG) and DIR/truth.json. No
detector is involved: the oracle controller sorts by the items' true classes.
"""

import argparse
import json
import os
import sys

import cv2
import numpy as np

from .cell import Cell
from .faults import Faults
from .oracle import OracleController
from .world import World


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m sims.conveyor", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=20.0, help="simulated time to render")
    parser.add_argument("--out", required=True, help="directory for conveyor.avi and truth.json")
    parser.add_argument("--faults", default="", help="e.g. frame_drop=0.1,belt_slip=0.05")
    parser.add_argument("--duty", type=float, default=0.6, help="motor PWM duty (0..1)")
    parser.add_argument(
        "--picture", metavar="PNG", help="instead of a clip, save the last frame as a picture"
    )
    return parser.parse_args(argv)


def side_by_side(camera, overview):
    """One clip frame: the camera view (or a 'dropped' card) left, the overview right."""
    h = overview.shape[0]
    if camera is None:
        camera = np.zeros((h, overview.shape[1], 3), np.uint8)
        cv2.putText(
            camera, "frame dropped", (20, h // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 255), 2
        )
    elif camera.shape[0] != h:
        camera = cv2.resize(camera, (camera.shape[1] * h // camera.shape[0], h))
    return np.concatenate([camera, overview], axis=1)


def picture(path, seed=1, seconds=9.0):
    """Save the picture docs/sims.md shows: camera (noise off, for a small PNG) and overview."""
    cell = Cell().replace(camera={"noise": 0.0})
    world = World(cell, seed=seed)
    oracle = OracleController(world)
    for _ in range(round(seconds * cell.camera.fps)):
        oracle.act()
        world.step(1.0 / cell.camera.fps)
    cv2.imwrite(path, side_by_side(world.render(), world.overview()))
    return world


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        faults = Faults.parse(args.faults)
    except ValueError as error:
        print("sims.conveyor: %s" % error, file=sys.stderr)
        return 2
    if args.picture:
        picture(args.picture, args.seed, args.seconds)
        print("picture -> %s" % args.picture)
        return 0
    world = World(seed=args.seed, faults=faults)
    oracle = OracleController(world, duty=args.duty)
    cam = world.cell.camera
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "conveyor.avi")
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*"MJPG"), cam.fps, (cam.width * 2, cam.height)
    )
    if not writer.isOpened():
        print(
            "sims.conveyor: cannot write %s (OpenCV has no MJPG writer here)" % path,
            file=sys.stderr,
        )
        return 1
    frames = round(args.seconds * cam.fps)
    for _ in range(frames):
        oracle.act()
        world.step(1.0 / cam.fps)
        writer.write(side_by_side(world.render(), world.overview(cam.width, cam.height)))
    writer.release()
    with open(os.path.join(args.out, "truth.json"), "w") as f:
        json.dump(world.truth.summary(), f, indent=1)
    print("%d frames (%.1f s, seed %d) -> %s" % (frames, args.seconds, args.seed, path))
    print(world.truth.report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
