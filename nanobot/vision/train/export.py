"""A trained TinyDetector as a static-shape ONNX file with its model card next to it.

Opset 12 and a batch of one: TensorRT 8.0/8.2 on JetPack 4.6, ONNX Runtime 1.10 and OpenCV
DNN 4.5+ all read it. The class names also go into the file's metadata the way Ultralytics
writes them (``names: {0: 'nut', ...}``), so the file runs even without its card.
"""

import copy
import os

import torch

from ..card import card_path

__all__ = ["OPSET", "export_onnx", "write_card"]

OPSET = 12


def export_onnx(net, path, class_names, description=""):
    """Write `net` (a TinyDetector) to `path` as ONNX: input `images` [1, 3, H, W] (RGB, 0..1),
    output `output0` [1, 4 + nc, N] (the YOLOv8 layout)."""
    import onnx

    net = copy.deepcopy(net).float().eval()
    net.export_mode = True
    dummy = torch.zeros(1, 3, *net.input_size)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.onnx.export(
        net,
        dummy,
        path,
        opset_version=OPSET,
        input_names=["images"],
        output_names=["output0"],
        do_constant_folding=True,
        dynamo=False,
    )
    model = onnx.load(path)
    meta = {
        "names": repr({i: n for i, n in enumerate(class_names)}),
        "imgsz": repr(list(net.input_size)),
        "stride": "8",
        "task": "detect",
        "description": description or "nanobot TinyDetector",
    }
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "nanobot.vision.train"
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def write_card(model_path, input_size, class_names, conf=0.25, iou=0.7, comment=""):
    """Write the model card next to `model_path` (model.onnx -> model.card.yaml)."""
    lines = ["# %s" % line for line in comment.splitlines()] if comment else []
    lines += [
        "model: %s" % os.path.basename(model_path),
        "family: yolov8",
        "input_size: [%d, %d]  # height, width" % tuple(input_size),
        "resize: letterbox",
        "normalize: yolo       # RGB / 255",
        "labels: [%s]" % ", ".join(class_names),
        "conf: %g" % conf,
        "iou: %g" % iou,
        "max_detections: 100",
    ]
    path = card_path(model_path)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path
