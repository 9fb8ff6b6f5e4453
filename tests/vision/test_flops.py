"""FLOPs from an ONNX graph, on the grid test model whose arithmetic is known by hand."""

import os

import pytest

pytest.importorskip("onnx", reason="counting FLOPs reads the graph with the onnx package")

from nanobot.vision.flops import count_flops

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
SORTER = os.path.join(HERE, "..", "..", "apps", "sorter", "models", "sorter.onnx")


def test_grid_model_flops():
    # 64x64 input pooled to 8x8 cells; a 1x1 convolution 3 -> 3 channels with a bias:
    # 64 cells x 3 outputs x 3 inputs multiply-adds (2 FLOPs each) + 64 x 3 bias additions
    counts = count_flops(os.path.join(DATA, "grid_yolov8.onnx"))
    assert counts["conv"] == 2 * 64 * 3 * 3 + 64 * 3
    assert counts["matmul"] == 0
    assert counts["total"] == counts["conv"] + counts["other"]


def test_sorter_model_flops():
    counts = count_flops(SORTER)  # as docs/vision.md states
    assert counts["conv"] == pytest.approx(0.558e9, rel=0.01)
