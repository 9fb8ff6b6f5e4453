"""Export labelled camera frames for training and evaluating a detector.

    python -m sims.conveyor.export --seed 1 --frames 500 --out data/conveyor --format yolo
    python -m sims.conveyor.export --seed 2 --frames 200 --out data/val --format coco

Every item of a class that is visible in a frame gets its exact box (clipped at the frame's
edges) and its visibility (the fraction of the item inside the frame). Distractors are never
labelled: a detector must learn to ignore them.

- yolo: ``images/NNNNNN.jpg``, ``labels/NNNNNN.txt`` (``class cx cy w h``, normalised),
  ``data.yaml`` (Ultralytics), and ``boxes.csv`` (pixel boxes with item ids and visibility,
  which YOLO's five columns cannot carry).
- coco: ``images/NNNNNN.jpg`` and ``annotations.json`` (bbox [x, y, w, h] in pixels; each
  annotation also has ``item_id``, ``visibility`` and ``truncated``).
"""

import argparse
import json
import os
import sys

import cv2

from .faults import Faults
from .oracle import OracleController
from .shapes import CLASSES
from .world import World

FORMATS = ("yolo", "coco")


def frames(world, count, every=0.25, controller=None):
    """Yield ``count`` (image, boxes) pairs, one every ``every`` seconds of the world's time
    (dropped frames are skipped). ``controller`` (default: the oracle) runs the cell."""
    controller = controller or OracleController(world)
    dt = 1.0 / world.cell.camera.fps
    steps = max(1, round(every / dt))
    made = 0
    while made < count:
        for _ in range(steps):
            controller.act()
            world.step(dt)
        image = world.render()
        if image is not None:
            made += 1
            yield image, world.camera.boxes()


def yolo_lines(boxes, width, height):
    """YOLO label lines (``class cx cy w h``, normalised to 0..1) for ``boxes``."""
    lines = []
    for b in boxes:
        cx, cy = (b.x0 + b.x1) / 2.0 / width, (b.y0 + b.y1) / 2.0 / height
        w, h = (b.x1 - b.x0) / float(width), (b.y1 - b.y0) / float(height)
        lines.append("%d %.6f %.6f %.6f %.6f" % (CLASSES.index(b.cls), cx, cy, w, h))
    return lines


def coco_annotation(box, ann_id, image_id):
    """One COCO annotation dict for ``box`` (category ids are class index + 1)."""
    w, h = box.x1 - box.x0, box.y1 - box.y0
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": CLASSES.index(box.cls) + 1,
        "bbox": [box.x0, box.y0, w, h],
        "area": w * h,
        "iscrowd": 0,
        "item_id": box.item_id,
        "visibility": box.visibility,
        "truncated": box.visibility < 1.0,
    }


def export(world, count, out, fmt="yolo", every=0.25, ext="jpg"):
    """Write ``count`` labelled frames of ``world`` to directory ``out`` in ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError("unknown format %r: use one of %s" % (fmt, ", ".join(FORMATS)))
    cam = world.cell.camera
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    if fmt == "yolo":
        os.makedirs(os.path.join(out, "labels"), exist_ok=True)
    images, annotations, csv = [], [], ["image,item_id,class,x0,y0,x1,y1,visibility"]
    for n, (image, boxes) in enumerate(frames(world, count, every)):
        name = "%06d.%s" % (n, ext)
        cv2.imwrite(os.path.join(out, "images", name), image)
        if fmt == "yolo":
            with open(os.path.join(out, "labels", "%06d.txt" % n), "w") as f:
                f.write("".join(line + "\n" for line in yolo_lines(boxes, cam.width, cam.height)))
            csv.extend(
                "%s,%d,%s,%d,%d,%d,%d,%.4f"
                % (name, b.item_id, b.cls, b.x0, b.y0, b.x1, b.y1, b.visibility)
                for b in boxes
            )
        else:
            images.append(
                {"id": n, "file_name": "images/" + name, "width": cam.width, "height": cam.height}
            )
            annotations.extend(
                coco_annotation(b, len(annotations) + 1 + k, n) for k, b in enumerate(boxes)
            )
    if fmt == "yolo":
        _write(out, "boxes.csv", "\n".join(csv) + "\n")
        names = "".join("  %d: %s\n" % (k, c) for k, c in enumerate(CLASSES))
        _write(
            out,
            "data.yaml",
            "path: %s\ntrain: images\nval: images\nnames:\n%s" % (os.path.abspath(out), names),
        )
    else:
        coco = {
            "info": {"description": "sims.conveyor seed %d" % world.seed},
            "images": images,
            "annotations": annotations,
            "categories": [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)],
        }
        _write(out, "annotations.json", json.dumps(coco))
    return count


def _write(out, name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sims.conveyor.export",
        description="Export labelled camera frames of the cell.",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--frames", type=int, required=True, help="how many frames to write")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--format", choices=FORMATS, default="yolo")
    parser.add_argument("--every", type=float, default=0.25, help="seconds between frames")
    parser.add_argument("--faults", default="", help="e.g. distractors=0.2,touching=0.2")
    parser.add_argument("--ext", choices=("jpg", "png"), default="jpg")
    args = parser.parse_args(argv)
    try:
        world = World(seed=args.seed, faults=Faults.parse(args.faults))
    except ValueError as error:
        print("sims.conveyor.export: %s" % error, file=sys.stderr)
        return 2
    export(world, args.frames, args.out, args.format, args.every, args.ext)
    print("%d frames (%s) -> %s" % (args.frames, args.format, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
