"""The codec and message types: round trips without copies, declarations, and every way a frame
list can be wrong, each reported with its exact DecodeError kind."""

import os
import re

import msgpack
import numpy as np
import pytest
import zmq

from nanobot import codec, msgs
from nanobot.msgs import Message, array


class Blob(Message, type_name="test_codec/Blob", version=3):
    """A user type with arrays of several dtypes and header fields of every msgpack kind."""

    values: np.ndarray = array("float64", (0,))
    mask: np.ndarray = array("bool", (0,))
    label: str = ""
    raw: bytes = b""
    count: int = 0
    ratio: float = 0.0
    flag: bool = False
    extra: dict = msgs.field(default_factory=dict)
    maybe: int = None


def samples():
    """One non-trivial instance of every built-in type."""
    rng = np.random.RandomState(0)
    return [
        msgs.Image(data=rng.randint(0, 256, (6, 8, 3)).astype(np.uint8), frame_id=4, stamp=10**18),
        msgs.Image(data=np.arange(12, dtype=np.uint8).reshape(3, 4), encoding="mono8"),
        msgs.Detections(
            boxes=np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32),
            scores=np.array([0.9, 0.1], np.float32),
            class_ids=np.array([1, 0], np.int32),
            class_names=["ball", "cube"],
            image_stamp=123,
            image_frame_id=7,
            image_width=640,
            image_height=480,
        ),
        msgs.Detections(),
        msgs.ServoCommand(target="gate", angle=-45.5),
        msgs.ServoCommand(target="gate"),
        msgs.MotorCommand(target="belt", speed=-1.0),
        msgs.DigitalCommand(target="lamp", value=True),
        msgs.GpioEvent(pin=12, level=1, stamp=99, name="beam"),
        msgs.Heartbeat(
            node="cam",
            node_class="m:C",
            pid=42,
            uptime=1.5,
            inputs={"image": {"topic": "t", "received": 3, "depth": 0}},
            outputs={"out": {"topic": "u", "sent": 2}},
            callbacks=5,
            callback_ms_mean=0.25,
            callback_ms_max=1.0,
            errors=1,
        ),
        msgs.Status(node="cam", level="warn", text="no frames for 2 s"),
        msgs.Log(node="cam", level="ERROR", text="ünïcode ok"),
        msgs.KeyValue(values={"a": 1, "b": [1.5, "x"], "c": {"d": None}}),
    ]


def builtin_types():
    return {c for c in msgs.registered().values() if c.__module__ == "nanobot.msgs"}


def test_samples_cover_every_builtin_type():
    assert {type(m) for m in samples()} == builtin_types()


@pytest.mark.parametrize("msg", samples(), ids=lambda m: type(m).type_name)
def test_every_builtin_type_round_trips(msg):
    frames = codec.encode(msg, "some/topic", seq=5, stamp=77, source="node1")
    env, out = codec.decode(frames, type(msg))
    assert out == msg
    assert type(out) is type(msg)
    assert (env.topic, env.type_name, env.type_version) == ("some/topic", msg.type_name, 1)
    assert (env.seq, env.stamp, env.source) == (5, 77, "node1")
    assert len(frames) == 2 + len(type(msg).array_fields)
    for name in type(msg).array_fields:
        arr = getattr(out, name)
        assert not arr.flags.writeable
        assert arr.size == 0 or np.shares_memory(arr, getattr(msg, name))  # a view, no copy


def test_received_arrays_are_views_of_the_received_zeromq_frame():
    ctx = zmq.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    try:
        a.bind("inproc://codec")
        b.connect("inproc://codec")
        img = msgs.Image(data=np.full((480, 640, 3), 7, np.uint8))
        a.send_multipart(codec.encode(img, "cam"), copy=False)
        frames = b.recv_multipart(copy=False)
        _, out = codec.decode(frames, msgs.Image)
        frame_bytes = np.frombuffer(frames[2].buffer, np.uint8)
        assert np.shares_memory(out.data, frame_bytes)
        assert not out.data.flags.writeable
        assert out == img
    finally:
        a.close()
        b.close()
        ctx.term()


def test_user_type_round_trips_every_field_kind():
    blob = Blob(
        values=np.array([1.5, -2.0, np.inf]),
        mask=np.array([True, False, True]),
        label="hello",
        raw=b"\x00\xff",
        count=-(2**40),
        ratio=0.125,
        flag=True,
        extra={"k": [1, 2]},
        maybe=None,
    )
    env, out = codec.decode(codec.encode(blob, "blob"), Blob)
    assert out == blob
    assert env.type_version == 3
    assert out.raw == b"\x00\xff" and isinstance(out.raw, bytes)


@pytest.mark.parametrize(
    "values",
    [
        np.array(3.5),  # 0-d
        np.arange(24.0).reshape(2, 3, 4)[:, ::2, 1:],  # not contiguous: sent as a C-order copy
        np.arange(5, dtype=">f8"),  # big endian stays big endian
        np.zeros((0, 5, 0)),  # zero-length: an empty frame
        np.zeros((1,) * codec.MAX_NDIM),
    ],
    ids=["scalar", "strided", "big-endian", "empty", "max-ndim"],
)
def test_array_shapes_layouts_and_byte_orders_round_trip(values):
    frames = codec.encode(Blob(values=values), "blob")
    _, out = codec.decode(frames, Blob)
    assert out.values.shape == values.shape
    assert out.values.dtype == values.dtype
    np.testing.assert_array_equal(out.values, values)
    assert bytes(memoryview(frames[2])) == np.ascontiguousarray(values).tobytes()


def test_header_carries_numpy_scalars_as_plain_numbers():
    det = msgs.Detections(image_stamp=np.int64(2**40), image_width=np.uint16(640))
    _, out = codec.decode(codec.encode(det, "d"))
    assert out.image_stamp == 2**40 and type(out.image_stamp) is int
    assert out.image_width == 640 and type(out.image_width) is int
    _, out = codec.decode(codec.encode(msgs.MotorCommand(speed=np.float32(0.5)), "m"))
    assert out.speed == 0.5 and type(out.speed) is float
    _, out = codec.decode(codec.encode(msgs.DigitalCommand(value=np.bool_(True)), "d"))
    assert out.value is True


def test_header_values_msgpack_cannot_carry_are_refused_naming_the_type():
    with pytest.raises(TypeError, match="cannot encode KeyValue: object values"):
        codec.encode(msgs.KeyValue(values={"x": object()}), "kv")


@pytest.mark.parametrize(
    "values",
    [
        np.array(["a", "b"]),
        np.array([1 + 2j]),
        np.array([None]),
        np.zeros(2, "i4,f4"),
        np.array(["2020-01-01"], "datetime64[D]"),
    ],
    ids=["str", "complex", "object", "structured", "datetime"],
)
def test_non_numeric_arrays_are_refused(values):
    with pytest.raises(TypeError, match=r"Blob\.values has dtype .*numeric arrays only"):
        codec.encode(Blob(values=values), "blob")


def test_an_array_field_holding_a_list_is_refused():
    with pytest.raises(TypeError, match=r"Blob.values must be a numpy array, not list"):
        codec.encode(Blob(values=[1.0]), "blob")


@pytest.mark.parametrize("msg", samples(), ids=lambda m: type(m).type_name)
def test_the_header_is_the_documented_map_packed_in_one_go(msg):
    # encode() packs the parts that do not change between messages once: the result must be
    # the same bytes as packing the whole map, keys in docs/protocol.md's order, every time.
    cls = type(msg)
    for seq in (0, 2**40):
        header = codec.encode(msg, "t", seq=seq, stamp=-5, source="src")[1]
        expected = {
            "protocol": 1,
            "type": cls.type_name,
            "type_version": cls.type_version,
            "seq": seq,
            "stamp": -5,
            "source": "src",
            "fields": {name: getattr(msg, name) for name in cls.header_fields},
            "arrays": [
                {
                    "field": n,
                    "dtype": getattr(msg, n).dtype.str,
                    "shape": list(getattr(msg, n).shape),
                }
                for n in cls.array_fields
            ],
        }
        assert header == msgpack.packb(expected, use_bin_type=True)


def test_the_header_follows_each_message_s_own_shapes_and_the_layout_cache_stays_bounded():
    for n in range(codec.MAX_CACHED_LAYOUTS + 10):
        boxes = np.zeros((n % 7, 4), np.float32)
        det = msgs.Detections(boxes, np.zeros(n % 7, np.float32), np.zeros(n % 7, np.int32))
        _, out = codec.decode(codec.encode(det, "d", source="s%d" % n))
        assert len(out) == n % 7
    assert len(codec._HEADER_PIECES) <= codec.MAX_CACHED_LAYOUTS


def test_a_numpy_scalar_is_refused_where_an_array_of_its_dtype_and_shape_went_before():
    codec.encode(Blob(values=np.array(3.5)), "blob")  # a 0-d float64 array: its layout is cached
    with pytest.raises(TypeError, match=r"Blob.values must be a numpy array, not float64"):
        codec.encode(Blob(values=np.float64(3.5)), "blob")


def test_a_topic_with_nul_cannot_be_framed():
    with pytest.raises(ValueError, match="NUL"):
        codec.topic_frame("a\0b")
    assert codec.topic_frame("cam/ü") == "cam/ü".encode() + b"\0"


# ---------------------------------------------------------------- declarations


def test_a_declared_type_is_registered_as_a_dataclass_with_split_fields():
    assert msgs.lookup("test_codec/Blob") is Blob
    assert Blob.type_version == 3
    assert Blob.array_fields == ("values", "mask")
    assert Blob.header_fields == ("label", "raw", "count", "ratio", "flag", "extra", "maybe")
    assert Blob().values.shape == (0,) and Blob().values.dtype == np.float64
    assert Blob().values is not Blob().values  # each instance gets its own default
    assert msgs.lookup("test_codec/Nothing") is None


@pytest.mark.parametrize(
    "name", ["Blob", "/Blob", "pkg/", "pkg//Blob", "1pkg/Blob", "pkg/1Blob", "pkg/Bl ob", "p-k/B"]
)
def test_type_names_must_be_package_slash_name(name):
    with pytest.raises(ValueError, match="is not of the form 'package/Name'"):

        class Bad(Message, type_name=name):
            x: int = 0


def test_a_type_without_a_name_is_refused_with_an_example():
    with pytest.raises(TypeError, match=r"needs a type name: class Nameless\(Message, type_name="):

        class Nameless(Message):
            x: int = 0


@pytest.mark.parametrize("version", [0, -1, "2", 1.0])
def test_a_version_must_be_an_int_of_at_least_one(version):
    with pytest.raises(ValueError, match="version must be an int >= 1"):

        class Versioned(Message, type_name="test_codec/Versioned", version=version):
            x: int = 0


def test_a_type_name_declared_twice_is_refused_naming_the_first():
    with pytest.raises(ValueError, match=r"'test_codec/Blob' is already declared by .*\.Blob"):

        class Blob(Message, type_name="test_codec/Blob"):
            y: int = 0

    assert msgs.lookup("test_codec/Blob") is globals()["Blob"]


def test_redeclaring_the_same_class_replaces_it_as_a_module_reload_does():
    def declare():
        class Reloaded(Message, type_name="test_codec/Reloaded"):
            x: int = 0

        return Reloaded

    first, second = declare(), declare()
    assert first is not second
    assert msgs.lookup("test_codec/Reloaded") is second


def test_equality_compares_array_values_dtypes_and_header_fields():
    a = Blob(values=np.array([1.0, 2.0]), label="x")
    assert a == Blob(values=np.array([1.0, 2.0]), label="x")
    assert a != Blob(values=np.array([1.0, 2.0]), label="y")
    assert a != Blob(values=np.array([1.0, 3.0]), label="x")
    assert a != Blob(values=np.array([1.0, 2.0], np.float32), label="x")
    assert a != msgs.KeyValue()


# ---------------------------------------------------------------- validation of built-in types


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"encoding": "yuv"}, "encoding 'yuv' is not one of bgr8, rgb8, mono8"),
        ({"data": np.zeros((2, 2, 3), np.float32)}, "must be uint8, not float32"),
        ({"data": np.zeros((2, 2), np.uint8)}, r"shape \(2, 2\) does not fit encoding bgr8"),
        ({"data": np.zeros((2, 2, 4), np.uint8)}, r"shape \(2, 2, 4\) does not fit encoding"),
        (
            {"data": np.zeros((2, 2, 1), np.uint8), "encoding": "mono8"},
            "does not fit encoding mono8",
        ),
    ],
)
def test_image_refuses_data_that_does_not_fit_its_encoding(kwargs, error):
    with pytest.raises(ValueError, match=error):
        msgs.Image(**kwargs)


def test_image_size_properties():
    img = msgs.Image(data=np.zeros((480, 640, 3), np.uint8), encoding="rgb8")
    assert (img.height, img.width) == (480, 640)


@pytest.mark.parametrize(
    "boxes, scores, ids",
    [((2, 4), (3,), (2,)), ((2, 4), (2,), (1,)), ((2, 3), (2,), (2,)), ((4,), (1,), (1,))],
)
def test_detections_need_one_n_for_boxes_scores_and_ids(boxes, scores, ids):
    with pytest.raises(ValueError, match="Detections need boxes N x 4, scores N and class_ids N"):
        msgs.Detections(
            boxes=np.zeros(boxes, np.float32),
            scores=np.zeros(scores, np.float32),
            class_ids=np.zeros(ids, np.int32),
        )


def test_detections_label_falls_back_to_the_class_id():
    det = msgs.Detections(
        boxes=np.zeros((3, 4), np.float32),
        scores=np.zeros(3, np.float32),
        class_ids=np.array([0, 5, -1], np.int32),
        class_names=["ball"],
    )
    assert len(det) == 3
    assert [det.label(i) for i in range(3)] == ["ball", "5", "-1"]


def test_motor_speed_must_be_within_minus_one_and_one():
    with pytest.raises(ValueError, match=r"speed 1\.5 is outside -1\.\.1"):
        msgs.MotorCommand(speed=1.5)


# ---------------------------------------------------------------- every DecodeError kind


def good_frames(msg=None):
    """The frames, as bytes, of `msg` (two Detections by default) on topic 'dets' from 'det'."""
    if msg is None:
        msg = msgs.Detections(
            boxes=np.ones((2, 4), np.float32),
            scores=np.ones(2, np.float32),
            class_ids=np.zeros(2, np.int32),
        )
    return [bytes(memoryview(f)) for f in codec.encode(msg, "dets", 1, 2, "det")]


def with_header(change, frames=None):
    """Good frames whose header went through `change(header)` (which edits it in place)."""
    frames = frames or good_frames()
    header = msgpack.unpackb(frames[1], raw=False)
    change(header)
    return [frames[0], msgpack.packb(header, use_bin_type=True), *frames[2:]]


def describe(array_index, **changes):
    def change(header):
        header["arrays"][array_index].update(changes)

    return with_header(change)


def drop_key(key):
    return with_header(lambda h: h.pop(key))


def set_key(key, value):
    return with_header(lambda h: h.__setitem__(key, value))


def with_frame(frames, index, data):
    return [*frames[:index], data, *frames[index + 1 :]]


def image_with(**fields):
    return with_header(lambda h: h["fields"].update(fields), good_frames(msgs.Image()))


SHM_REF = ["nanobot-0-1-1-dets.slots", 4096, 2, 4160]

# Every way to be wrong, by the kind the codec must report. Decoded with no expected type,
# except for wrong-type (decoded where Detections are expected).
CASES = {
    "frame-count": [
        [b"dets\0"],
        [],
        good_frames()[:-1],
        [*good_frames(), b""],
        set_key("arrays", [{"field": f"f{i}", "dtype": "|u1", "shape": [0]} for i in range(65)])
        + [b""] * 62,
    ],
    "topic": [
        [b"dets", *good_frames()[1:]],
        [b"dets\0x\0", *good_frames()[1:]],
        [b"\xff\xfe\0", *good_frames()[1:]],
        [b"", *good_frames()[1:]],
    ],
    "header": [
        with_frame(good_frames(), 1, b"\xc1"),  # 0xc1 is never used in msgpack
        with_frame(good_frames(), 1, b""),
        with_frame(good_frames(), 1, b"\x93\x01\x02"),  # truncated array
        with_frame(good_frames(), 1, msgpack.packb([1, 2])),
        with_frame(good_frames(), 1, b"\x81\xa8protocol\x01" + b" " * codec.MAX_HEADER_BYTES),
        drop_key("type"),
        drop_key("seq"),
        drop_key("fields"),
        set_key("type_version", "1"),
        set_key("seq", True),
        set_key("stamp", 1.5),
        set_key("source", None),
        set_key("arrays", {}),
        set_key("fields", []),
    ],
    "protocol-version": [set_key("protocol", 2), set_key("protocol", "1"), drop_key("protocol")],
    "array": [
        describe(0, dtype="<f8"),  # 2 x 4 x 8 bytes declared, 32 bytes present
        describe(0, shape=[2, 5]),
        describe(0, dtype="<c8"),
        describe(0, dtype="|O8"),
        describe(0, dtype="<f4 "),
        describe(0, dtype="=f4"),
        describe(0, dtype="float32"),
        describe(0, dtype=4),
        describe(0, shape=[2, -4]),
        describe(0, shape=[2, True]),
        describe(0, shape=[2, 4.0]),
        describe(0, shape="2,4"),
        describe(0, shape=[1] * (codec.MAX_NDIM + 1)),
        describe(0, field=None),
        describe(1, field="boxes"),  # declared twice
        describe(0, shm=SHM_REF),  # in shared memory, yet its frame holds bytes
        with_header(lambda h: h["arrays"].__setitem__(0, "boxes")),
    ],
    # in shared memory, sent to a receiver of the topic (not of its local channel)
    "shm": [with_frame(describe(0, shm=SHM_REF), 2, b"")],
    "unknown-type": [set_key("type", "nobody/Knows")],
    "wrong-type": [good_frames(msgs.Image())],
    "type-version": [set_key("type_version", 2)],
    "fields": [
        with_header(lambda h: h["fields"].__setitem__("colour", "red")),
        with_header(lambda h: h["fields"].__setitem__("scores", [1.0])),  # an array as a field
        describe(0, field="corners"),
        describe(0, shape=[8]),  # the right byte count, but boxes must be N x 4
        with_frame(describe(1, shape=[3], dtype="|u1"), 3, b"\0\0\0"),  # 3 scores, 2 boxes
        image_with(encoding="yuv"),
        image_with(encoding=["bgr8"]),
    ],
}


def test_every_decode_error_kind_has_cases_and_the_codec_has_no_other():
    with open(codec.__file__, encoding="utf-8") as f:
        source = f.read()
    kinds = set(re.findall(r'DecodeError\(\s*"([a-z-]+)"', source))
    assert kinds == set(CASES)


@pytest.mark.parametrize(
    "kind, frames",
    [(kind, frames) for kind, cases in CASES.items() for frames in cases],
    ids=[f"{kind}-{i}" for kind, cases in CASES.items() for i in range(len(cases))],
)
def test_each_bad_frame_list_raises_its_exact_kind(kind, frames):
    with pytest.raises(codec.DecodeError) as info:
        codec.decode(frames, msgs.Detections if kind == "wrong-type" else None)
    assert info.value.kind == kind, str(info.value)
    if kind not in ("frame-count", "topic", "header"):
        assert (info.value.topic, info.value.source) == ("dets", "det")


def test_a_good_frame_list_of_bytes_decodes():
    env, det = codec.decode(good_frames(), msgs.Detections)
    assert (env.topic, env.seq, env.stamp, env.source) == ("dets", 1, 2, "det")
    assert len(det) == 2


@pytest.mark.parametrize(
    "ref, kind",
    [
        (SHM_REF, "stale"),  # no such file: its publisher closed
        (["../dets.slots", 4096, 2, 4160], "shm"),
        ([4096, 2, 4160], "shm"),
        ("nanobot-0-1-1-dets.slots", "shm"),
    ],
)
def test_a_local_receiver_drops_arrays_it_cannot_find_in_shared_memory(ref, kind):
    frames = with_frame(describe(0, shm=ref), 2, b"")
    with pytest.raises(codec.DecodeError) as info:
        codec.decode(frames, msgs.Detections, local=True)
    assert info.value.kind == kind and (info.value.topic, info.value.source) == ("dets", "det")


def test_frames_for_the_local_channel_carry_slot_references_and_decode_as_views():
    from nanobot.slots import SlotWriter

    writer = SlotWriter("camera/image")
    frame = np.arange(480 * 640 * 3, dtype=np.uint32).astype(np.uint8).reshape(480, 640, 3)
    try:
        frames = codec.encode(
            msgs.Image(data=frame, frame_id=3), "camera/image", 5, 6, "cam", writer
        )
        assert frames[0] == b"camera/image\x01\0" and frames[2] == b""
        header = msgpack.unpackb(frames[1])
        assert header["arrays"][0]["shm"][0] == os.path.basename(writer.path)
        env, img = codec.decode(frames, msgs.Image, local=True)
        assert env.topic == "camera/image" and (env.seq, env.stamp) == (5, 6)
        assert np.array_equal(img.data, frame) and not img.data.flags.writeable
        small = codec.encode(msgs.Image(data=frame[:2, :2]), "camera/image", writer=writer)
        assert small[0] == b"camera/image\x01\0" and small[2].nbytes == 12  # in its frame
    finally:
        writer.close()


def test_topics_may_not_hold_the_local_channel_mark():
    with pytest.raises(ValueError, match="NUL or SOH"):
        codec.topic_frame("camera\x01")
    with pytest.raises(codec.DecodeError, match="SOH"):
        codec.decode([b"a\x01b\0", *good_frames()[1:]])
