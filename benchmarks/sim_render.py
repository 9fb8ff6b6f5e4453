"""How fast the conveyor world simulates and renders its camera (sims.conveyor).

    python -m benchmarks.sim_render            # a table
    python -m benchmarks.sim_render --json     # every figure, as one JSON object

Runs the world at 30 fps with the oracle controller, the belt at duty 0.6 (items in view,
motion blur, noise and lighting on), and times ``step(1/30)`` + ``render()`` per frame after a
warm-up (so the belt is up to speed and items are in view). Reports frames per second of
world time rendered and the speed-up over real time (the target is >= 10x: >= 300 frames/s).
Also times the overview image and physics alone (no rendering).
"""

import argparse
import json
import platform
import time

import cv2
import numpy as np

from sims.conveyor import World
from sims.conveyor.oracle import OracleController


def measure(frames, seed, render=True, overview=False):
    world = World(seed=seed)
    oracle = OracleController(world)
    dt = 1.0 / world.cell.camera.fps
    for _ in range(90):  # 3 s: belt up to speed, items in view
        oracle.act()
        world.step(dt)
        world.render()
    start = time.perf_counter()
    for _ in range(frames):
        oracle.act()
        world.step(dt)
        if render:
            world.render()
        if overview:
            world.overview()
    wall = time.perf_counter() - start
    return {
        "frames": frames,
        "seconds": round(wall, 4),
        "fps": round(frames / wall, 1),
        "realtime_factor": round(frames * dt / wall, 1),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sim_render")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--frames", type=int, default=900, help="frames to time (30 fps)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    results = {
        "camera": measure(args.frames, args.seed),
        "physics_only": measure(args.frames, args.seed, render=False),
        "camera_and_overview": measure(args.frames // 3, args.seed, overview=True),
        "target_fps": 300,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "opencv": cv2.__version__,
            "cpu": platform.processor() or platform.machine(),
        },
    }
    if args.json:
        print(json.dumps(results))
        return
    print("sims.conveyor at 640x480, 30 fps world time (target >= 300 frames/s = 10x real time)")
    for name in ("camera", "physics_only", "camera_and_overview"):
        r = results[name]
        print("  %-20s %8.1f frames/s  %6.1fx real time" % (name, r["fps"], r["realtime_factor"]))


if __name__ == "__main__":
    main()
