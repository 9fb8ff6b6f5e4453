"""python -m apps.sorter.calibrate: measure the camera's pixels <-> belt mm from a printed
checkerboard, and write it to the sorter's config.

    python -m apps.sorter.calibrate --camera csi://0 --square 20 --corners 7x5 \\
        --origin 120 -40 --config apps/sorter/config.yaml

Print a checkerboard with `--square` mm squares (measure the print: printers scale), lay it
flat on the stopped belt, squares along the belt, in the camera's view. `--corners` counts
the inner corners (columns x rows); `--origin` is where the inner corner nearest the image's
top-left lies on the belt: x mm from the belt's upstream end, y mm from its centre line
(positive towards the bins). The camera must look straight down (the sorter's model of it);
the command refuses a view tilted or rotated by more than 2 %.
"""

import argparse
import re
import sys

import numpy as np

import hal.camera

from . import config as configs


class CalibrationError(ValueError):
    """No usable target in the frame."""


def measure(image, corners, square_mm, origin_mm):
    """{width, height, px_per_mm, x0, y0} from a BGR or grey `image` of the checkerboard."""
    import cv2

    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cols, rows = corners
    found, points = cv2.findChessboardCorners(grey, (cols, rows))
    if not found:
        raise CalibrationError(
            "no %dx%d checkerboard in the frame: check --corners (inner corners), the light "
            "and that the whole board is in view" % (cols, rows)
        )
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    points = cv2.cornerSubPix(grey, points, (5, 5), (-1, -1), criteria).reshape(-1, 2)
    points = points.astype(np.float64)
    # order as a grid: rows by v, each row by u (the board may be found in any orientation)
    order = np.argsort(points[:, 1])
    grid = points[order].reshape(-1, cols, 2) if len(points) == cols * rows else None
    if grid is None or grid.shape[0] != rows:
        raise CalibrationError("lay the board with its %d-corner side along the belt" % cols)
    grid = np.array([row[np.argsort(row[:, 0])] for row in grid])
    du = np.diff(grid[:, :, 0], axis=1).mean()
    dv = np.diff(grid[:, :, 1], axis=0).mean()
    skew = max(abs(np.diff(grid[:, :, 1], axis=1)).max(), abs(np.diff(grid[:, :, 0], axis=0)).max())
    if abs(du - dv) > 0.02 * du or skew > 0.02 * du:
        raise CalibrationError(
            "the board looks tilted or rotated (%.1f vs %.1f px per square): align it with the "
            "belt and the camera straight down" % (du, dv)
        )
    px_per_mm = (du + dv) / 2 / square_mm
    u0, v0 = grid[0, 0]
    height, width = grey.shape[:2]
    return {
        "width": int(width),
        "height": int(height),
        "px_per_mm": round(float(px_per_mm), 4),
        "x0": round(float(origin_mm[0] - u0 / px_per_mm), 2),
        "y0": round(float(origin_mm[1] - v0 / px_per_mm), 2),
    }


def write(path, calibration):
    """Replace the `calibration:` line of the config at `path`, keeping everything else."""
    with open(path) as f:
        text = f.read()
    line = "calibration: {%s}" % ", ".join("%s: %s" % kv for kv in calibration.items())
    new, n = re.subn(r"(?m)^calibration:.*$", line, text)
    if n != 1:
        raise CalibrationError("%s has no one-line 'calibration:' entry to replace" % path)
    with open(path, "w") as f:
        f.write(new)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m apps.sorter.calibrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--camera", default="csi://0", help="hal camera URI or an image file")
    p.add_argument("--square", type=float, required=True, help="square size, mm")
    p.add_argument("--corners", default="7x5", help="inner corners, COLSxROWS (default 7x5)")
    p.add_argument(
        "--origin",
        type=float,
        nargs=2,
        required=True,
        metavar=("X", "Y"),
        help="belt mm of the inner corner nearest the image's top-left",
    )
    p.add_argument("--config", default=configs.DEFAULT_CONFIG, help="config file to update")
    p.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = p.parse_args(argv)  # fmt: skip
    try:
        cols, rows = (int(n) for n in args.corners.lower().split("x"))
        image = _grab(args.camera)
        calibration = measure(image, (cols, rows), args.square, args.origin)
        print("calibration: %s" % calibration)
        if not args.dry_run:
            write(args.config, calibration)
            print("written to %s" % args.config)
    except (CalibrationError, ValueError, OSError) as e:
        print("calibration failed: %s" % e, file=sys.stderr)
        return 1
    return 0


def _grab(uri):
    if "://" not in uri:
        import cv2

        image = cv2.imread(uri)
        if image is None:
            raise CalibrationError("cannot read image %s" % uri)
        return image
    with hal.camera.open(uri) as camera:
        return camera.read().image


if __name__ == "__main__":
    sys.exit(main())
