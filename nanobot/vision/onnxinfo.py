"""What an ONNX file declares (inputs, outputs, metadata), read without the onnx package.

An ONNX file is a protobuf ModelProto. Reading the few fields nanobot needs takes a small
wire-format reader, so the OpenCV backend (the one Python 3.6 boards always have) knows a
model's tensor names and shapes and its labels (Ultralytics stores ``names`` in the
metadata), with no onnx wheel::

    info = onnxinfo.read("yolov8n.onnx")
    info.inputs     # [TensorInfo(name='images', shape=(1, 3, 640, 640), dtype='float32')]
    info.metadata   # {'names': "{0: 'person', ...}", 'stride': '32', ...}

Dynamic dimensions (a ``dim_param`` such as "batch", or no value) are None in shapes.
"""

import collections
import struct

__all__ = ["ModelInfo", "OnnxFormatError", "TensorInfo", "parse", "read"]

# TensorProto.DataType numbers -> numpy dtype names (the ones detectors use).
ELEM_TYPES = {1: "float32", 2: "uint8", 3: "int8", 6: "int32", 7: "int64", 9: "bool", 10: "float16"}

# Field numbers from onnx.proto.
_MODEL_GRAPH, _MODEL_METADATA, _MODEL_OPSET, _MODEL_PRODUCER = 7, 14, 8, 2
_GRAPH_INITIALIZER, _GRAPH_INPUT, _GRAPH_OUTPUT = 5, 11, 12
_TENSOR_NAME = 8
_VALUE_NAME, _VALUE_TYPE = 1, 2
_TYPE_TENSOR = 1
_TENSOR_ELEM, _TENSOR_SHAPE = 1, 2
_SHAPE_DIM = 1
_DIM_VALUE, _DIM_PARAM = 1, 2
_ENTRY_KEY, _ENTRY_VALUE = 1, 2
_OPSET_VERSION = 2


class OnnxFormatError(ValueError):
    """The bytes are not an ONNX model."""


class TensorInfo(collections.namedtuple("TensorInfo", "name shape dtype")):
    """A model input or output: `shape` is a tuple with None for dynamic dimensions."""

    __slots__ = ()

    @property
    def is_dynamic(self):
        return any(d is None for d in self.shape)


ModelInfo = collections.namedtuple("ModelInfo", "inputs outputs metadata opset producer")
ModelInfo.__doc__ = "Inputs and outputs (TensorInfo lists), metadata (dict), opset, producer."


def read(path):
    """The ModelInfo of the ONNX file at `path`."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return parse(data)
    except OnnxFormatError as e:
        raise OnnxFormatError("%s is not an ONNX model (%s)" % (path, e)) from None


def parse(data):
    """The ModelInfo of ONNX model bytes."""
    data = memoryview(data)
    graph, metadata, opset, producer = None, {}, None, ""
    for number, value in _fields(data):
        if number == _MODEL_GRAPH:
            graph = value
        elif number == _MODEL_METADATA:
            entry = dict(_fields(value))
            metadata[_text(entry.get(_ENTRY_KEY, b""))] = _text(entry.get(_ENTRY_VALUE, b""))
        elif number == _MODEL_OPSET:
            version = dict(_fields(value)).get(_OPSET_VERSION)
            if isinstance(version, int):
                opset = max(opset or 0, version)
        elif number == _MODEL_PRODUCER:
            producer = _text(value)
    if graph is None:
        raise OnnxFormatError("no graph in it")
    initialized, inputs, outputs = set(), [], []
    for number, value in _fields(graph):
        if number == _GRAPH_INITIALIZER:
            initialized.add(_text(dict(_fields(value)).get(_TENSOR_NAME, b"")))
        elif number == _GRAPH_INPUT:
            inputs.append(_value_info(value))
        elif number == _GRAPH_OUTPUT:
            outputs.append(_value_info(value))
    # Models of IR version < 4 list their weights among the inputs too.
    inputs = [t for t in inputs if t.name not in initialized]
    return ModelInfo(inputs, outputs, metadata, opset, producer)


def _value_info(buf):
    fields = dict(_fields(buf))
    name = _text(fields.get(_VALUE_NAME, b""))
    tensor = dict(_fields(dict(_fields(fields.get(_VALUE_TYPE, b""))).get(_TYPE_TENSOR, b"")))
    dtype = ELEM_TYPES.get(tensor.get(_TENSOR_ELEM), "unknown")
    shape = []
    for number, dim in _fields(tensor.get(_TENSOR_SHAPE, b"")):
        if number == _SHAPE_DIM:
            value = dict(_fields(dim)).get(_DIM_VALUE)
            shape.append(value if isinstance(value, int) and value > 0 else None)
    return TensorInfo(name, tuple(shape), dtype)


def _text(value):
    return bytes(value).decode("utf-8", "replace")


def _fields(buf):
    """(field number, value) pairs of one protobuf message: ints for varints and fixed
    numbers, memoryviews for length-delimited fields (read lazily, never copied)."""
    buf = memoryview(buf)
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise OnnxFormatError("a field runs past the end of the data")
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = struct.unpack_from("<q", buf, pos)[0], pos + 8
        elif wire == 5:
            value, pos = struct.unpack_from("<i", buf, pos)[0], pos + 4
        else:
            raise OnnxFormatError("unsupported protobuf wire type %d" % wire)
        if pos > end:
            raise OnnxFormatError("truncated data")
        yield number, value


def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise OnnxFormatError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 63:  # negative int64 (e.g. dim_value -1 from some exporters)
                result -= 1 << 64
            return result, pos
        shift += 7
        if shift > 63:
            raise OnnxFormatError("malformed varint")
