"""Writes a detector with a real model's cost and no skill, for benchmarks while no trained
model is at hand.

    python -m benchmarks.standin_model /tmp/standin.onnx     # needs the onnx package

A YOLOv8-layout network ([1, 3, 320, 320] in, [1, 4 + 4 classes, 1600] out) whose trunk is
eight 3x3 convolutions with ReLU (16 to 64 channels, strides down to 40x40): about 0.75
GFLOP per frame, a third of YOLOv8n at 320x320. Its head's weights are zero and its class
biases -10, so it finds nothing and post-processing stays as cheap as on a quiet belt. The
weights are random (seeded): the file is 0.5 MB, so it is written on demand, not kept.
"""

import sys

import numpy as np

SIZE = 320
CLASSES = 4
#: (out channels, stride) of each 3x3 convolution of the trunk
TRUNK = ((16, 2), (32, 2), (32, 1), (32, 1), (32, 1), (64, 2), (64, 1), (64, 1))


def build(seed=0):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.RandomState(seed)
    nodes, weights = [], []
    last, channels, side = "images", 3, SIZE
    for i, (out, stride) in enumerate(TRUNK):
        w = rng.normal(0, (2.0 / (9 * channels)) ** 0.5, (out, channels, 3, 3))
        weights += [
            numpy_helper.from_array(w.astype(np.float32), "w%d" % i),
            numpy_helper.from_array(np.zeros(out, np.float32), "b%d" % i),
        ]
        nodes += [
            helper.make_node(
                "Conv",
                [last, "w%d" % i, "b%d" % i],
                ["c%d" % i],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
                strides=[stride, stride],
            ),
            helper.make_node("Relu", ["c%d" % i], ["r%d" % i]),
        ]
        last, channels, side = "r%d" % i, out, side // stride
    bias = np.concatenate([np.full(4, side / 2.0), np.full(CLASSES, -10.0)]).astype(np.float32)
    weights += [
        numpy_helper.from_array(np.zeros((4 + CLASSES, channels, 1, 1), np.float32), "head_w"),
        numpy_helper.from_array(bias, "head_b"),
        numpy_helper.from_array(np.array([1, 4 + CLASSES, side * side], np.int64), "shape"),
    ]
    nodes += [
        helper.make_node("Conv", [last, "head_w", "head_b"], ["head"], kernel_shape=[1, 1]),
        helper.make_node("Reshape", ["head", "shape"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "standin_detector",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + CLASSES, side**2])],
        initializer=weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    names = {i: n for i, n in enumerate(("nut", "washer", "bolt", "bracket"))}
    entry = model.metadata_props.add()
    entry.key, entry.value = "names", repr(names)
    onnx.checker.check_model(model)
    return model


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m benchmarks.standin_model OUT.onnx", file=sys.stderr)
        return 2
    import onnx

    onnx.save(build(), argv[0])
    print(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
