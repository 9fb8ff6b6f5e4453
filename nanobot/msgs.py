"""Typed messages.

A message type is a class with annotated fields, declared once with a registered, versioned
type name::

    from nanobot.msgs import Message, array

    class Temperature(Message, type_name="myrobot/Temperature", version=1):
        celsius: float = 0.0
        sensor: str = ""

    class PointCloud(Message, type_name="myrobot/PointCloud"):
        points: np.ndarray = array("float32", (0, 3))

The class becomes a dataclass. Fields annotated ``np.ndarray`` travel as separate zero-copy
frames on the wire; every other field travels in the msgpack header, so it must hold what
msgpack carries: None, bool, int, float, str, bytes, lists and dicts of those.
"""

import dataclasses
import re

import numpy as np

__all__ = [
    "Detections",
    "DigitalCommand",
    "GpioEvent",
    "Heartbeat",
    "Image",
    "KeyValue",
    "Log",
    "Message",
    "MotorCommand",
    "ServoCommand",
    "Status",
    "array",
    "field",
    "lookup",
    "registered",
]

_TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(/[A-Za-z][A-Za-z0-9_]*)+$")
_REGISTRY = {}

field = dataclasses.field


def array(dtype, shape=(0,)):
    """A numpy array field whose default is an empty (or zero) array of `dtype` and `shape`."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    return dataclasses.field(
        default_factory=lambda: np.zeros(shape, dtype), metadata={"dtype": dtype}
    )


class Message:
    """Base class of every message type; see the module docstring for how to declare one."""

    type_name = None  # "package/Name", set by the class keyword
    type_version = 1
    array_fields = ()  # names of the np.ndarray fields, in declaration order
    header_fields = ()  # names of the other fields

    def __init_subclass__(cls, type_name=None, version=1, **kwargs):
        super().__init_subclass__(**kwargs)
        if type_name is None:
            raise TypeError(
                "message class %s needs a type name: class %s(Message, type_name='mypkg/%s')"
                % (cls.__name__, cls.__name__, cls.__name__)
            )
        if not _TYPE_NAME.match(type_name):
            raise ValueError(
                "message type name %r is not of the form 'package/Name' (letters, digits, _)"
                % (type_name,)
            )
        if not isinstance(version, int) or version < 1:
            raise ValueError("message type %s: version must be an int >= 1" % type_name)
        known = _REGISTRY.get(type_name)
        if known is not None and _qualname(known) != _qualname(cls):
            raise ValueError(
                "message type name %r is already declared by %s; pick another name"
                % (type_name, _qualname(known))
            )
        cls.type_name = type_name
        cls.type_version = version
        dataclasses.dataclass(eq=False)(cls)
        fields = dataclasses.fields(cls)
        cls.array_fields = tuple(f.name for f in fields if f.type is np.ndarray)
        cls.header_fields = tuple(f.name for f in fields if f.type is not np.ndarray)
        _REGISTRY[type_name] = cls

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        for name in self.array_fields:
            a, b = getattr(self, name), getattr(other, name)
            if a.dtype != b.dtype or not np.array_equal(a, b):
                return False
        return all(getattr(self, n) == getattr(other, n) for n in self.header_fields)

    __hash__ = None


def _qualname(cls):
    return "%s.%s" % (cls.__module__, cls.__qualname__)


def lookup(type_name):
    """The message class registered under `type_name`, or None."""
    return _REGISTRY.get(type_name)


def registered():
    """All registered message types, by type name."""
    return dict(_REGISTRY)


# ---------------------------------------------------------------- built-in types

ENCODINGS = {"bgr8": 3, "rgb8": 3, "mono8": 1}


class Image(Message, type_name="nanobot/Image"):
    """A camera frame: `data` is HxWx3 (bgr8, rgb8) or HxW (mono8) uint8.

    `frame_id` counts frames at the source; `stamp` is the capture time in ns on the graph clock.
    """

    data: np.ndarray = array("uint8", (0, 0, 3))
    encoding: str = "bgr8"
    frame_id: int = 0
    stamp: int = 0

    def __post_init__(self):
        channels = ENCODINGS.get(self.encoding)
        if channels is None:
            raise ValueError(
                "Image encoding %r is not one of %s" % (self.encoding, ", ".join(ENCODINGS))
            )
        data = self.data
        if data.dtype != np.uint8:
            raise ValueError("Image data must be uint8, not %s" % data.dtype)
        ok = data.ndim == 2 if channels == 1 else data.ndim == 3 and data.shape[2] == channels
        if not ok:
            raise ValueError(
                "Image data of shape %s does not fit encoding %s" % (data.shape, self.encoding)
            )

    @property
    def height(self):
        return self.data.shape[0]

    @property
    def width(self):
        return self.data.shape[1]


class Detections(Message, type_name="nanobot/Detections"):
    """Objects found in one image: boxes are N x 4 float32 (x1, y1, x2, y2) in image pixels.

    `image_stamp` and `image_frame_id` are those of the Image the detections came from.
    """

    boxes: np.ndarray = array("float32", (0, 4))
    scores: np.ndarray = array("float32", (0,))
    class_ids: np.ndarray = array("int32", (0,))
    class_names: list = field(default_factory=list)
    image_stamp: int = 0
    image_frame_id: int = 0
    image_width: int = 0
    image_height: int = 0

    def __post_init__(self):
        n = len(self.boxes)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,) or self.class_ids.shape != (n,):
            raise ValueError(
                "Detections need boxes N x 4, scores N and class_ids N; got %s, %s, %s"
                % (self.boxes.shape, self.scores.shape, self.class_ids.shape)
            )

    def __len__(self):
        return len(self.boxes)

    def label(self, i):
        """The class name of detection `i` (its id as text when no names were given)."""
        cid = int(self.class_ids[i])
        return self.class_names[cid] if 0 <= cid < len(self.class_names) else str(cid)


class ServoCommand(Message, type_name="nanobot/ServoCommand"):
    """Move servo `target` to `angle` degrees; None detaches it (no pulses)."""

    target: str = ""
    angle: float = None


class MotorCommand(Message, type_name="nanobot/MotorCommand"):
    """Drive motor `target` at `speed` from -1 (full reverse) to 1 (full forward); 0 stops."""

    target: str = ""
    speed: float = 0.0

    def __post_init__(self):
        if not -1.0 <= self.speed <= 1.0:
            raise ValueError("MotorCommand speed %r is outside -1..1" % (self.speed,))


class DigitalCommand(Message, type_name="nanobot/DigitalCommand"):
    """Set digital output `target` (a relay, an LED, ...) on or off."""

    target: str = ""
    value: bool = False


class GpioEvent(Message, type_name="nanobot/GpioEvent"):
    """An input pin changed: `level` is the new level (0/1), `stamp` its time in ns."""

    pin: int = 0
    level: int = 0
    stamp: int = 0
    name: str = ""


class Heartbeat(Message, type_name="nanobot/Heartbeat"):
    """A node's periodic health report (published by the runtime on `nanobot/heartbeat`).

    `inputs` maps each input to {topic, received, depth, dropped, malformed, rejected};
    `outputs` maps each output to {topic, sent}; callback times are in milliseconds.
    """

    node: str = ""
    node_class: str = ""
    pid: int = 0
    uptime: float = 0.0
    state: str = "running"
    inputs: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    callbacks: int = 0
    callback_ms_mean: float = 0.0
    callback_ms_max: float = 0.0
    errors: int = 0


class Status(Message, type_name="nanobot/Status"):
    """A state change worth telling: level is 'ok', 'warn' or 'error'."""

    node: str = ""
    level: str = "ok"
    text: str = ""


class Log(Message, type_name="nanobot/Log"):
    """A log record: level is the logging level name (INFO, WARNING, ...)."""

    node: str = ""
    level: str = "INFO"
    text: str = ""


class KeyValue(Message, type_name="nanobot/KeyValue"):
    """A plain record of named values (numbers, strings, lists, dicts)."""

    values: dict = field(default_factory=dict)
