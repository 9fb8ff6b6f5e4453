"""How much arithmetic one inference of an ONNX model costs, from its graph alone.

    python -m nanobot.vision.flops apps/sorter/models/sorter.onnx
    -> 0.557 GFLOP per inference (Conv 0.557, other 0.000); 0.279 G multiply-adds

Counts convolutions and matrix products (2 FLOPs per multiply-add, plus the bias), where
detectors spend nearly all their time; element-wise operations are counted one FLOP per
output element under "other". Shapes come from ONNX shape inference, so the model must have
a static input shape. Needs the `onnx` package (the train extra).
"""

import sys

__all__ = ["count_flops"]


def count_flops(path):
    """{"conv": FLOPs, "matmul": FLOPs, "other": FLOPs, "total": FLOPs} of one inference."""
    import onnx
    from onnx import numpy_helper, shape_inference

    model = shape_inference.infer_shapes(onnx.load(path))
    graph = model.graph
    shapes = {}
    for value in list(graph.input) + list(graph.value_info) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        shapes[value.name] = [d.dim_value for d in dims]
    for init in graph.initializer:
        shapes[init.name] = list(numpy_helper.to_array(init).shape)
    counts = {"conv": 0, "matmul": 0, "other": 0}
    for node in graph.node:
        out = shapes.get(node.output[0]) or []
        elements = _product(out)
        if node.op_type == "Conv":
            weight = shapes[node.input[1]]  # [c_out, c_in / groups, kh, kw]
            macs = elements * _product(weight[1:])
            counts["conv"] += 2 * macs + (elements if len(node.input) > 2 else 0)
        elif node.op_type in ("Gemm", "MatMul"):
            k = shapes[node.input[0]][-1]
            counts["matmul"] += 2 * elements * k
        elif node.op_type not in (
            "Reshape",
            "Flatten",
            "Concat",
            "Transpose",
            "Constant",
            "Shape",
            "Gather",
            "Unsqueeze",
            "Squeeze",
            "Slice",
        ):
            counts["other"] += elements
    counts["total"] = sum(counts.values())
    return counts


def _product(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def main(argv=None):
    for path in argv if argv is not None else sys.argv[1:]:
        c = count_flops(path)
        print(
            "%s: %.3f GFLOP per inference (conv %.3f, matmul %.3f, other %.3f)"
            % (path, c["total"] / 1e9, c["conv"] / 1e9, c["matmul"] / 1e9, c["other"] / 1e9)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
