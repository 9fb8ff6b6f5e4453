"""Writes the tiny ONNX detectors under tests/vision/data/ (committed; a few KB each).

    python tests/vision/make_models.py        # needs the onnx package (pip install onnx)

Each model is a real conv net over a 64x64 RGB input seen as an 8x8 grid of 8-pixel cells:
an 8x8 average pool, a 1x1 convolution scoring each cell for "red", "green" and "blue"
(logit 4 * (2 * own channel - other two) - 2, so a pure colour scores ~0.998, grey and black
~0.12), and a sigmoid. Every cell proposes the box of its own cell. So a saturated colour
square covering exactly one cell yields exactly that cell's box, with that colour's class:
known boxes for a known input, through every layout:

- grid_yolov8.onnx   output0 [1, 7, 64]   (cx, cy, w, h, 3 class scores) x 64 cells;
                     labels in the metadata as Ultralytics stores them (`names`)
- grid_yolov5.onnx   output0 [1, 64, 8]   (cx, cy, w, h, objectness, 3 class scores)
- grid_ssd.onnx      scores [1, 64, 4] (softmax, background first), boxes [1, 64, 4] (0..1);
                     input `input_0` normalised (x - 127) / 128 as jetson-inference's SSD
- grid_yolov8_dynamic.onnx   as grid_yolov8 with a dynamic batch dimension
"""

import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
SIZE, CELL = 64, 8
GRID = SIZE // CELL
N = GRID * GRID
OPSET = 11  # ONNX Runtime 1.10 (Python 3.6) and OpenCV 4.6 both read it
NAMES = {0: "red", 1: "green", 2: "blue"}


def cell_boxes_xywh():
    """[4, N]: cx, cy, w, h of each cell in input pixels, cells in row-major order."""
    j, i = np.divmod(np.arange(N), GRID)
    return np.stack(
        [(i + 0.5) * CELL, (j + 0.5) * CELL, np.full(N, CELL), np.full(N, CELL)]
    ).astype(np.float32)


def scorer(ssd):
    """Nodes and weights from the input to S [B, 3, N], the per-cell class score (YOLO:
    sigmoid probabilities) or logit (SSD)."""
    w = np.full((3, 3), -1.0, np.float32)
    np.fill_diagonal(w, 2.0)
    gain, bias = (3.0, 0.0) if ssd else (4.0, -2.0)
    weights = [
        numpy_helper.from_array((gain * w).reshape(3, 3, 1, 1), "conv_w"),
        numpy_helper.from_array(np.full(3, bias, np.float32), "conv_b"),
        numpy_helper.from_array(np.array([0, 3, N], np.int64), "flat_shape"),
    ]
    name_in = "input_0" if ssd else "images"
    nodes = [
        helper.make_node(
            "AveragePool", [name_in], ["pooled"], kernel_shape=[CELL, CELL], strides=[CELL, CELL]
        ),
        helper.make_node("Conv", ["pooled", "conv_w", "conv_b"], ["logits"], kernel_shape=[1, 1]),
    ]
    last = "logits"
    if not ssd:
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["probs"]))
        last = "probs"
    nodes.append(helper.make_node("Reshape", [last, "flat_shape"], ["S"]))
    # zeros [B, 4, N] to carry per-cell constants over the batch (OpenCV 4.6 cannot
    # broadcast [B, 1, N] + [1, 4, N], so the zeros are concatenated to full size first)
    nodes += [
        helper.make_node("ReduceMean", ["S"], ["S_mean"], axes=[1], keepdims=1),
        helper.make_node("Mul", ["S_mean", "zero"], ["zero_row"]),
        helper.make_node("Concat", ["zero_row"] * 4, ["zeros"], axis=1),
    ]
    weights.append(numpy_helper.from_array(np.zeros((), np.float32), "zero"))
    return name_in, nodes, weights


def yolov8(batch=1):
    name_in, nodes, weights = scorer(ssd=False)
    weights.append(numpy_helper.from_array(cell_boxes_xywh()[None], "cells"))
    nodes += [
        helper.make_node("Add", ["zeros", "cells"], ["xywh"]),  # [B, 4, N]
        helper.make_node("Concat", ["xywh", "S"], ["output0"], axis=1),
    ]
    return _model(nodes, weights, name_in, [("output0", [batch, 7, N])], batch, names=True)


def yolov5():
    name_in, nodes, weights = scorer(ssd=False)
    weights.append(numpy_helper.from_array(cell_boxes_xywh()[None], "cells"))
    nodes += [
        helper.make_node("Add", ["zeros", "cells"], ["xywh"]),
        helper.make_node("ReduceMax", ["S"], ["obj"], axes=[1], keepdims=1),  # [B, 1, N]
        helper.make_node("Concat", ["xywh", "obj", "S"], ["rows_t"], axis=1),  # [B, 8, N]
        helper.make_node("Transpose", ["rows_t"], ["output0"], perm=[0, 2, 1]),
    ]
    return _model(nodes, weights, name_in, [("output0", [1, N, 8])], 1)


def ssd():
    name_in, nodes, weights = scorer(ssd=True)
    xywh = cell_boxes_xywh()
    xyxy = (
        np.stack(
            [
                xywh[0] - xywh[2] / 2,
                xywh[1] - xywh[3] / 2,
                xywh[0] + xywh[2] / 2,
                xywh[1] + xywh[3] / 2,
            ]
        )
        / SIZE
    )
    weights += [
        numpy_helper.from_array(xyxy.T[None].astype(np.float32), "cells"),  # [1, N, 4]
        numpy_helper.from_array(np.array(3.0, np.float32), "background_logit"),
    ]
    nodes += [
        helper.make_node("Transpose", ["S"], ["S_t"], perm=[0, 2, 1]),  # [B, N, 3]
        helper.make_node("Transpose", ["zeros"], ["zeros_t"], perm=[0, 2, 1]),  # [B, N, 4]
        helper.make_node("Transpose", ["zero_row"], ["zero_col"], perm=[0, 2, 1]),  # [B, N, 1]
        helper.make_node("Add", ["zero_col", "background_logit"], ["bg"]),
        helper.make_node("Concat", ["bg", "S_t"], ["class_logits"], axis=2),
        helper.make_node("Softmax", ["class_logits"], ["scores"], axis=2),
        helper.make_node("Add", ["zeros_t", "cells"], ["boxes"]),
    ]
    return _model(nodes, weights, name_in, [("scores", [1, N, 4]), ("boxes", [1, N, 4])], 1)


def _model(nodes, weights, name_in, outputs, batch, names=False):
    graph = helper.make_graph(
        nodes,
        "grid_detector",
        [helper.make_tensor_value_info(name_in, TensorProto.FLOAT, [batch, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
        initializer=weights,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="nanobot-tests"
    )
    model.ir_version = 6  # ONNX Runtime 1.10 reads up to IR 8; 6 suits OpenCV 4.6 as well
    if names:
        meta = {"names": repr(NAMES), "stride": "8", "imgsz": "[64, 64]", "task": "detect"}
        for key, value in meta.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    return model


def main():
    os.makedirs(HERE, exist_ok=True)
    for name, model in (
        ("grid_yolov8", yolov8()),
        ("grid_yolov8_dynamic", yolov8(batch="batch")),
        ("grid_yolov5", yolov5()),
        ("grid_ssd", ssd()),
    ):
        path = os.path.join(HERE, name + ".onnx")
        onnx.save(model, path)
        print("%s: %d bytes" % (path, os.path.getsize(path)))


if __name__ == "__main__":
    main()
