"""The wire format: a message as ZeroMQ multipart frames, and back (docs/protocol.md).

    frame 0   topic, UTF-8, terminated by one NUL byte (so SUB's prefix filter matches exactly)
    frame 1   header, a msgpack map (protocol, type, type_version, seq, stamp, source,
              fields, arrays)
    frame 2+  one frame per array field, raw C-order bytes, in the order of header["arrays"]

On the local channel (topic frame "<topic>\x01\0", for subscribers on the publisher's host)
an array's descriptor may instead point into a shared-memory slot (nanobot.slots), its frame
then empty.

Decoding trusts nothing: every way a frame list can be wrong raises DecodeError with a `kind`
naming the problem, so a receiver can count it, log it and go on.
"""

import collections
import functools
import threading

import msgpack
import numpy as np

from . import msgs, slots

PROTOCOL_VERSION = 1
TOPIC_END = b"\0"
LOCAL_MARK = b"\x01"  # before TOPIC_END: the local channel, where arrays may be in slots
MAX_HEADER_BYTES = 1 << 20
MAX_ARRAYS = 64
MAX_NDIM = 8

# Numeric dtypes only (never object or void): kind + item size, any byte order.
_ALLOWED_DTYPES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}
_DTYPES = {order + code: np.dtype(order + code) for order in "<>|" for code in _ALLOWED_DTYPES}
_HEADER_KEYS = {
    "protocol": int,
    "type": str,
    "type_version": int,
    "seq": int,
    "stamp": int,
    "source": str,
    "fields": dict,
    "arrays": list,
}
# msgpack decodes to exactly these types (bool is not int here), so one tuple comparison
# checks a good header; a bad one is looked at key by key to say what is wrong.
_HEADER_NAMES = tuple(_HEADER_KEYS)
_HEADER_TYPES = tuple(_HEADER_KEYS.values())
_local = threading.local()  # a msgpack Packer per thread: reusing one saves its setup
# A message's header is mostly the same from one message to the next: encode() packs the
# parts that depend only on (type, source, array dtypes and shapes) once and keeps them here.
_HEADER_PIECES = {}
MAX_CACHED_LAYOUTS = 4096
_TOPICS = {}  # topic frame bytes -> topic, for frames found good
MAX_CACHED_TOPICS = 1024

Envelope = collections.namedtuple(
    "Envelope", "topic type_name type_version seq stamp source fields arrays"
)
Envelope.__doc__ = """A decoded frame list before its type is looked up: `fields` is the
header's field map, `arrays` maps field name -> read-only numpy array (a view of its frame)."""


class DecodeError(ValueError):
    """A frame list that is not a valid message; `kind` names the problem for counting."""

    def __init__(self, kind, detail, topic=None, source=None):
        super().__init__(detail)
        self.kind = kind
        self.topic = topic
        self.source = source or None  # "" (anonymous) and unknown are one sender to a log


@functools.lru_cache(maxsize=1024)
def topic_frame(topic, local=False):
    """The topic frame for `topic` (also the SUB subscription prefix that matches it alone);
    `local`: the frame of its local channel."""
    if "\0" in topic or "\x01" in topic:
        raise ValueError("topic %r contains a NUL or SOH (\\x01) character" % (topic,))
    return topic.encode("utf-8") + (LOCAL_MARK + TOPIC_END if local else TOPIC_END)


def _pack_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError("%s values cannot travel in a message header" % type(value).__name__)


def encode(msg, topic, seq=0, stamp=0, source="", writer=None):
    """Frames for `msg` on `topic`: [topic, header, *arrays]; arrays are passed without copying.

    With `writer` (a nanobot.slots.SlotWriter), frames for the topic's local channel: arrays
    large enough are copied into a shared-memory slot and their frames are empty.
    """
    cls = type(msg)
    arrays = [getattr(msg, name) for name in cls.array_fields]
    try:
        layout = (cls, source, *[(type(a), a.dtype.str, a.shape) for a in arrays])
    except AttributeError:  # not an array: _header_pieces says so
        layout = None
    pieces = _HEADER_PIECES.get(layout)
    if pieces is None:
        pieces = _header_pieces(cls, source, arrays)
        if len(_HEADER_PIECES) >= MAX_CACHED_LAYOUTS:
            _HEADER_PIECES.clear()
        _HEADER_PIECES[layout] = pieces
    pack = _packer().pack
    try:
        fields = pack({name: getattr(msg, name) for name in cls.header_fields})
    except (TypeError, ValueError, OverflowError) as e:
        _local.packer = None  # a failed pack may leave the packer's buffer half full
        raise TypeError("cannot encode %s: %s" % (cls.__name__, e)) from None
    tail = pieces[3]
    refs = writer.write(arrays) if writer is not None and arrays else None
    if refs is not None:
        descriptors = [dict(desc, shm=ref) for desc, ref in zip(pieces[5], refs)]
        tail = pieces[4] + pack(descriptors)
        arrays = [b""] * len(arrays)
    else:
        for i, value in enumerate(arrays):
            if not value.flags.c_contiguous:
                arrays[i] = np.require(value, requirements="C")  # ascontiguousarray: 0-d -> 1-d
    header = b"".join(
        (pieces[0], pack(int(seq)), pieces[1], pack(int(stamp)), pieces[2], fields, tail)
    )
    return [topic_frame(topic, writer is not None), header, *arrays]


def _header_pieces(cls, source, arrays):
    """The header of a `cls` message from `source` with these arrays, packed around its
    varying values: (up to seq's value, up to stamp's value, up to the fields' value, the rest)
    and, to pack the rest another way, (its key, the array descriptors). Joined with those
    values packed, they are exactly the msgpack map of section 3 in docs/protocol.md, keys in
    its order; raises TypeError for an array field that is not one."""
    descriptors = []
    for name, value in zip(cls.array_fields, arrays):
        if not isinstance(value, np.ndarray):
            raise TypeError(
                "%s.%s must be a numpy array, not %s" % (cls.__name__, name, type(value).__name__)
            )
        if value.dtype.str[1:] not in _ALLOWED_DTYPES:
            raise TypeError(
                "%s.%s has dtype %s; messages carry numeric arrays only (bool, int, uint, float)"
                % (cls.__name__, name, value.dtype)
            )
        descriptors.append({"field": name, "dtype": value.dtype.str, "shape": list(value.shape)})
    pack = msgpack.Packer(use_bin_type=True).pack
    keys = [pack(key) for key in _HEADER_NAMES]  # protocol type type_version seq stamp ...
    return (
        b"\x88"  # a map of the 8 header keys
        + keys[0] + pack(PROTOCOL_VERSION) + keys[1] + pack(cls.type_name)
        + keys[2] + pack(cls.type_version) + keys[3],
        keys[4],
        keys[5] + pack(source) + keys[6],
        keys[7] + pack(descriptors),
        keys[7],
        descriptors,
    )  # fmt: skip


def _packer():
    packer = getattr(_local, "packer", None)
    if packer is None:
        packer = _local.packer = msgpack.Packer(use_bin_type=True, default=_pack_default)
    return packer


def _bytes_of(frame):
    """A buffer over a received frame: zmq.Frame (zero-copy), bytes or memoryview."""
    buf = getattr(frame, "buffer", frame)
    return buf if isinstance(buf, memoryview) else memoryview(buf)


def decode_envelope(frames, local=False):
    """Parse and check `frames` without looking up the message type; raises DecodeError.

    `local`: the receiver reads arrays kept in shared-memory slots (it subscribed to the local
    channel); otherwise such arrays are refused (kind 'shm')."""
    if len(frames) < 2:
        raise DecodeError("frame-count", "%d frame(s); a message has at least 2" % len(frames))
    first = frames[0]
    raw_topic = bytes(getattr(first, "bytes", first))  # a zmq.Frame's bytes need no memoryview
    topic = _TOPICS.get(raw_topic)
    if topic is None:
        topic = _topic_of(raw_topic)
    header_buf = _bytes_of(frames[1])
    if header_buf.nbytes > MAX_HEADER_BYTES:
        raise DecodeError("header", "header of %d bytes is too large" % header_buf.nbytes, topic)
    try:
        header = msgpack.unpackb(header_buf, raw=False)
    except Exception as e:  # msgpack raises several unrelated types on garbage
        raise DecodeError(
            "header", "header is not msgpack (%s)" % type(e).__name__, topic
        ) from None
    if type(header) is not dict or header.get("protocol") != PROTOCOL_VERSION:
        raise _bad_header(header, topic)
    if tuple(map(type, map(header.get, _HEADER_NAMES))) != _HEADER_TYPES:
        raise _bad_header(header, topic)
    source = header["source"]
    descriptors = header["arrays"]
    if len(frames) != 2 + len(descriptors) or len(descriptors) > MAX_ARRAYS:
        raise DecodeError(
            "frame-count",
            "header declares %d arrays, over the limit of %d" % (len(descriptors), MAX_ARRAYS)
            if len(descriptors) > MAX_ARRAYS
            else "header declares %d array(s) but %d array frame(s) arrived"
            % (len(descriptors), len(frames) - 2),
            topic,
            source,
        )
    arrays = {}
    for desc, frame in zip(descriptors, frames[2:]):
        name, arr = _decode_array(desc, frame, topic, source, local)
        if name in arrays:
            raise DecodeError("array", "array %r is declared twice" % name, topic, source)
        arrays[name] = arr
    return Envelope(
        topic,
        header["type"],
        header["type_version"],
        header["seq"],
        header["stamp"],
        source,
        header["fields"],
        arrays,
    )


def _topic_of(raw_topic):
    """The topic named by a topic frame's bytes (remembered once found good)."""
    if not raw_topic.endswith(TOPIC_END) or TOPIC_END in raw_topic[:-1]:
        # An embedded NUL would let "a\0b\0" through a subscription to "a\0".
        raise DecodeError("topic", "topic frame is not one NUL-terminated name")
    name = raw_topic[:-1]
    if name.endswith(LOCAL_MARK):  # the local channel of the topic
        name = name[:-1]
    if LOCAL_MARK in name:
        raise DecodeError("topic", "topic frame has a SOH (\\x01) inside the name")
    try:
        topic = name.decode("utf-8")
    except UnicodeDecodeError:
        raise DecodeError("topic", "topic frame is not UTF-8") from None
    if len(_TOPICS) >= MAX_CACHED_TOPICS:
        _TOPICS.clear()
    _TOPICS[raw_topic] = topic
    return topic


def _bad_header(header, topic):
    """The DecodeError for a header that is not a map of the right keys and types."""
    if not isinstance(header, dict):
        return DecodeError("header", "header is not a map", topic)
    source = header.get("source") if isinstance(header.get("source"), str) else None
    if header.get("protocol") != PROTOCOL_VERSION:
        return DecodeError(
            "protocol-version",
            "protocol version %r, this receiver speaks %d"
            % (header.get("protocol"), PROTOCOL_VERSION),
            topic,
            source,
        )
    for key, kind in _HEADER_KEYS.items():
        if type(header.get(key)) is not kind:
            return DecodeError(
                "header", "header field %r missing or not %s" % (key, kind.__name__), topic, source
            )
    raise AssertionError("_bad_header called on a good header")


def _decode_array(desc, frame, topic, source, local):
    """(field name, read-only array over `frame`, or from its slot) for one descriptor."""
    if type(desc) is dict:
        name, dtype, shape = desc.get("field"), desc.get("dtype"), desc.get("shape")
        dt = _DTYPES.get(dtype) if type(dtype) is str else None
        if type(name) is str and dt is not None and type(shape) is list and len(shape) <= MAX_NDIM:
            expected = dt.itemsize
            for d in shape:
                if type(d) is not int or d < 0:  # msgpack gives exactly int, never a bool
                    break
                expected *= d
            else:
                ref = desc.get("shm")
                if ref is not None:
                    return name, _read_slot(local, ref, dt, shape, expected, frame, topic, source)
                buf = _bytes_of(frame)
                if expected == buf.nbytes:
                    arr = np.frombuffer(buf, dtype=dt).reshape(shape)
                    arr.flags.writeable = False
                    return name, arr
    raise DecodeError("array", _array_problem(desc, frame), topic, source)


def _read_slot(local, ref, dtype, shape, nbytes, frame, topic, source):
    """A read-only array over the shared-memory slot that holds it."""
    if _bytes_of(frame).nbytes:
        raise DecodeError("array", "an array in shared memory has a non-empty frame", topic, source)
    if not local:
        raise DecodeError(
            "shm", "an array in shared memory arrived at a receiver of frames only", topic, source
        )
    try:
        return slots.read(ref, dtype, shape, nbytes)
    except slots.SlotError as e:
        raise DecodeError(e.kind, str(e), topic, source) from None


def _array_problem(desc, frame):
    """What is wrong with an array descriptor (or its frame) that _decode_array refused."""
    if not isinstance(desc, dict):
        return "array descriptor is not a map"
    name, dtype, shape = desc.get("field"), desc.get("dtype"), desc.get("shape")
    if not isinstance(name, str) or not isinstance(dtype, str) or not isinstance(shape, list):
        return "array descriptor needs field (str), dtype (str) and shape (list)"
    dt = _DTYPES.get(dtype)
    if dt is None:
        return "array %r has dtype %r, not a numeric numpy dtype string" % (name, dtype)
    if len(shape) > MAX_NDIM or any(type(d) is not int or d < 0 for d in shape):
        return "array %r has shape %r; dims must be <= %d ints >= 0" % (name, shape, MAX_NDIM)
    expected = dt.itemsize
    for d in shape:
        expected *= d
    return "array %r declares %s %s (%d bytes) but its frame has %d bytes" % (
        name, dtype, shape, expected, _bytes_of(frame).nbytes,
    )  # fmt: skip


def decode(frames, expected=None, local=False):
    """Decode `frames` into (Envelope, message); raises DecodeError.

    With `expected` (a Message class), a message of any other type raises DecodeError with
    kind 'wrong-type'. `local`: as for decode_envelope.
    """
    env = decode_envelope(frames, local)
    cls = msgs.lookup(env.type_name)
    if cls is None:
        raise DecodeError(
            "unknown-type", "unknown message type %r" % env.type_name, env.topic, env.source
        )
    if expected is not None and not issubclass(cls, expected):
        raise DecodeError(
            "wrong-type",
            "%s arrived where %s is expected" % (env.type_name, expected.type_name),
            env.topic,
            env.source,
        )
    if env.type_version != cls.type_version:
        raise DecodeError(
            "type-version",
            "%s version %d, this receiver knows version %d"
            % (env.type_name, env.type_version, cls.type_version),
            env.topic,
            env.source,
        )
    header_names, array_names = _field_names(cls)
    if not (env.fields.keys() <= header_names and env.arrays.keys() <= array_names):
        unknown = (env.fields.keys() - header_names) | (env.arrays.keys() - array_names)
        raise DecodeError(
            "fields",
            "%s has no field(s) %s" % (env.type_name, ", ".join(sorted(map(str, unknown)))),
            env.topic,
            env.source,
        )
    kwargs = dict(env.fields)
    kwargs.update(env.arrays)
    try:
        msg = cls(**kwargs)
    except Exception as e:  # a user type's __post_init__ may raise anything
        raise DecodeError(
            "fields", "%s rejected its fields: %s" % (env.type_name, e), env.topic, env.source
        ) from None
    return env, msg


@functools.lru_cache(maxsize=None)
def _field_names(cls):
    """(header field names, array field names) of a message class, as sets."""
    return frozenset(cls.header_fields), frozenset(cls.array_fields)
