"""Random and mutated frame lists thrown at live subscribers over real ipc sockets.

A raw pyzmq PUB socket feeds a node running on a NodeThread (an Image input, newest-only, and
a KeyValue input, keep-all) with garbage and with valid messages broken in every way a
sender can break them, good messages interleaved. After each batch a good "sync" message
follows on both inputs; the test waits for it (Condition), then for a heartbeat whose
counters account for every message received. The codec is the oracle that says what each
frame list is (good, or bad with which kind); test_codec checks the codec itself.

More examples locally: NANOBOT_FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_subscriber.py
"""

import collections
import logging
import os
import shutil
import tempfile
import threading
import time

import msgpack
import numpy as np
import pytest
import zmq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanobot import codec, msgs
from nanobot.node import HEARTBEAT_TOPIC, Input, Node
from nanobot.runtime import NodeThread
from nanobot.transport import QueuePolicy, Subscriber

TIMEOUT = 20.0  # seconds for any one wait, on a loaded machine
FUZZ = settings(
    max_examples=int(os.environ.get("NANOBOT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

IMAGE, EVENTS = "fuzz/image", "fuzz/events"
EXPECTS = {IMAGE: msgs.Image, EVENTS: msgs.KeyValue}
TOPIC_FRAMES = {t: codec.topic_frame(t) for t in EXPECTS}


# ---------------------------------------------------------------- what gets thrown


BASES = [
    msgs.Image(data=np.arange(18, dtype=np.uint8).reshape(2, 3, 3), frame_id=-1),
    msgs.Image(data=np.zeros((2, 2), np.uint8), encoding="mono8", frame_id=-2),
    msgs.KeyValue(values={"fuzz": 1, "text": "ü"}),
    msgs.Detections(
        boxes=np.ones((1, 4), np.float32),
        scores=np.ones(1, np.float32),
        class_ids=np.ones(1, np.int32),
    ),
    msgs.GpioEvent(pin=7, level=1, name="beam"),
]
TYPE_NAMES = [*sorted(msgs.registered()), "nobody/Knows", "", "nanobot/image"]
DTYPES = [
    "<f8",
    "<f4",
    ">f4",
    "|u1",
    "|b1",
    "<i2",
    "<u8",
    "<c8",
    "|O8",
    "<U4",
    "=f4",
    "float32",
    "",
]
# Frame 0 variants: exact topics, near misses that a SUB prefix filter still lets through, others.
FRAME0S = [
    *TOPIC_FRAMES.values(),
    codec.topic_frame(IMAGE, local=True),  # heard by the live node's local image input only
    b"fuzz/image\x01\x01\0",
    b"fuzz/image\0x\0",
    b"fuzz/image\0\xff",
    b"fuzz/events\0\0",
    b"fuzz/image",
    b"fuzz/ev",
    b"\xff\xfe\0",
    b"",
]

blobs = st.binary(max_size=48)
ints = st.one_of(st.integers(-2, 8), st.integers(-(2**63), 2**64 - 1))
values = st.one_of(
    st.none(), st.booleans(), ints, st.floats(allow_nan=False), st.text(max_size=8), blobs,
    st.lists(st.integers(0, 9), max_size=3),
)  # fmt: skip

mutations = st.one_of(
    st.tuples(st.just("truncate"), st.integers(0, 5), st.integers(0, 40)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("insert"), st.integers(0, 6), blobs),
    st.tuples(st.just("remove"), st.integers(0, 6)),
    st.tuples(st.just("garbage"), st.integers(0, 6), blobs),
    st.tuples(st.just("topic"), st.sampled_from(FRAME0S)),
    st.tuples(st.just("type"), st.one_of(st.sampled_from(TYPE_NAMES), st.text(max_size=12))),
    st.tuples(
        st.just("key"),
        st.sampled_from(["protocol", "type_version", "seq", "stamp", "source", "fields", "arrays"]),
        values,
    ),
    st.tuples(
        st.just("field"), st.sampled_from(["frame_id", "encoding", "values", "extra"]), values
    ),
    st.tuples(
        st.just("shape"),
        st.integers(0, 3),
        st.lists(st.one_of(st.integers(-2, 6), st.integers(2**31, 2**62)), max_size=10),
    ),
    st.tuples(st.just("dtype"), st.integers(0, 3), st.sampled_from(DTYPES)),
    st.tuples(st.just("descriptors"), st.integers(0, 80)),  # oversized: more than MAX_ARRAYS
    # an array said to be in a shared-memory slot: references plausible and not
    st.tuples(
        st.just("shm"),
        st.integers(0, 3),
        st.one_of(
            values,
            st.lists(values, max_size=5),
            st.tuples(
                st.sampled_from(["nanobot-0-1-1-x.slots", "../x.slots", "", "nanobot-0-1-1-x"]),
                ints,
                ints,
                ints,
            ).map(list),
        ),
        st.booleans(),  # empty the array's frame, as a slot reference does
    ),
    st.tuples(st.just("bloat")),  # a header over MAX_HEADER_BYTES
)


def _edit_header(frames, edit):
    """Re-pack frame 1 after `edit(header)`; leaves frames alone if it is not a msgpack map."""
    try:
        header = msgpack.unpackb(frames[1], raw=False)
    except Exception:
        return
    if isinstance(header, dict):
        edit(header)
        frames[1] = msgpack.packb(header, use_bin_type=True)


def _edit_descriptor(frames, index, key, value):
    def edit(header):
        arrays = header.get("arrays")
        if isinstance(arrays, list) and arrays and isinstance(arrays[index % len(arrays)], dict):
            arrays[index % len(arrays)][key] = value

    _edit_header(frames, edit)


def mutate(frames, mutation):
    """Apply one mutation to a list of byte frames, in place."""
    op, args = mutation[0], mutation[1:]
    if op == "truncate":
        i, n = args[0] % len(frames), args[1]
        frames[i] = frames[i][: min(n, max(len(frames[i]) - 1, 0))]
    elif op == "flip" and len(frames) > 1 and frames[1]:
        i = args[0] % len(frames[1])
        frames[1] = frames[1][:i] + bytes([frames[1][i] ^ args[1]]) + frames[1][i + 1 :]
    elif op == "insert":
        frames.insert(args[0] % (len(frames) + 1), args[1])
    elif op == "remove" and len(frames) > 1:
        del frames[args[0] % len(frames)]
    elif op == "garbage":
        frames[args[0] % len(frames)] = args[1]
    elif op == "topic":
        frames[0] = args[0]
    elif len(frames) < 2:
        return
    elif op == "type":
        _edit_header(frames, lambda h: h.__setitem__("type", args[0]))
    elif op == "key":
        _edit_header(frames, lambda h: h.__setitem__(args[0], args[1]))
    elif op == "field":
        _edit_header(
            frames,
            lambda h: isinstance(h.get("fields"), dict) and h["fields"].update({args[0]: args[1]}),
        )
    elif op in ("shape", "dtype"):
        _edit_descriptor(frames, args[0], op, args[1])
    elif op == "shm":
        _edit_descriptor(frames, args[0], "shm", args[1])
        if args[2] and len(frames) > 2:
            frames[2 + args[0] % (len(frames) - 2)] = b""
    elif op == "descriptors":
        extra = [{"field": "x", "dtype": "|u1", "shape": [0]}] * args[0]
        _edit_header(
            frames, lambda h: isinstance(h.get("arrays"), list) and h["arrays"].extend(extra)
        )
        frames.extend([b""] * args[0])
    elif op == "bloat":
        pad = "x" * codec.MAX_HEADER_BYTES
        _edit_header(
            frames, lambda h: isinstance(h.get("fields"), dict) and h["fields"].update(pad=pad)
        )


@st.composite
def thrown(draw):
    """One frame list: random frames, or a valid message with 0..3 mutations (0: a good one)."""
    if draw(st.integers(0, 4)) == 0:
        return [draw(st.sampled_from(FRAME0S)), *draw(st.lists(blobs, max_size=5))]
    base = draw(st.sampled_from(BASES))
    topic = draw(st.sampled_from(sorted(EXPECTS)))
    source = draw(st.sampled_from(["fuzzer", "other", ""]))
    frames = [
        bytes(memoryview(f))
        for f in codec.encode(base, topic, draw(ints.filter(lambda i: i >= 0)), 5, source)
    ]
    for m in draw(st.lists(mutations, max_size=3)):
        mutate(frames, m)
    return frames


batches = st.lists(thrown(), min_size=1, max_size=6)


# ---------------------------------------------------------------- the oracle


class Ledger:
    """What each input should have seen, by the codec's verdict on every frame list sent.
    `local`: topics whose input reads shared-memory slots (a keep_last input on ipc)."""

    def __init__(self, names, local=()):
        self.names = names  # topic -> input name as the subscriber logs it
        self.local = set(local)
        self.sent = collections.Counter()  # topic -> frame lists routed to it
        self.kinds = {t: collections.Counter() for t in names}  # topic -> kind -> count
        self.good = {t: [] for t in names}  # topic -> good messages, in order
        self.problems = set()  # (kind, input name, source as logged)

    def route(self, frames):
        """The topic whose SUB filter (a prefix match on frame 0) lets `frames` through."""
        for topic, prefix in TOPIC_FRAMES.items():
            if frames and frames[0].startswith(prefix):
                return topic
        for topic in self.local:  # its input also subscribes to the topic's local channel
            if frames and frames[0].startswith(codec.topic_frame(topic, local=True)):
                return topic
        return None

    def record(self, frames):
        topic = self.route(frames)
        if topic is None:
            return
        self.sent[topic] += 1
        try:
            local = topic in self.local
            self.good[topic].append(codec.decode(frames, EXPECTS[topic], local)[1])
        except codec.DecodeError as e:
            self.kinds[topic][e.kind] += 1
            self.problems.add((e.kind, self.names[topic], e.source or "an unknown sender"))

    def malformed(self, topic):
        # wrong-type is counted as rejected; stale (a slot gone) as dropped
        return sum(n for k, n in self.kinds[topic].items() if k not in ("wrong-type", "stale"))


class Problems(logging.Handler):
    """Collects the subscribers' 'dropped a ... message' warnings as (kind, input, source)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.keys = []

    def emit(self, record):  # called under the handler's lock, from the node's thread
        if record.msg.startswith("dropped a "):
            self.keys.append((record.args[0], record.args[1], record.args[3]))


@pytest.fixture(scope="module")
def ipc_dir():
    path = tempfile.mkdtemp(prefix="nbf-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def problems():
    handler = Problems()
    logger = logging.getLogger("nanobot.transport")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class Feed:
    """A raw PUB socket that records what it sends in a Ledger."""

    def __init__(self, context, endpoint, ledger):
        self.socket = context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.SNDHWM, 100000)  # never drop: every frame list is accounted
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(endpoint)
        self.ledger = ledger

    def send(self, frames):
        if frames:  # ZeroMQ has no empty multipart message
            self.socket.send_multipart(frames)
            self.ledger.record(frames)


# ---------------------------------------------------------------- a live node


SYNC_BASE = 10**12  # sync ids, beyond what the fuzzer's Images and KeyValues carry


def sync_frames(topic, sync_id):
    """A good message for `topic` that the receivers recognise as sync `sync_id`."""
    if topic == IMAGE:
        msg = msgs.Image(data=np.zeros((1, 1, 3), np.uint8), encoding="rgb8", frame_id=sync_id)
    else:
        msg = msgs.KeyValue(values={"sync": sync_id})
    return [bytes(memoryview(f)) for f in codec.encode(msg, topic, 0, 0, "sync")]


def sync_id_of(msg):
    """The sync id `msg` carries, or None (fuzzed messages are not syncs)."""
    if isinstance(msg, msgs.Image):
        if msg.data.shape == (1, 1, 3) and msg.encoding == "rgb8" and type(msg.frame_id) is int:
            return msg.frame_id
    elif isinstance(msg.values, dict) and set(msg.values) == {"sync"}:
        return msg.values["sync"]
    return None


class Target(Node):
    """Counts what its two inputs deliver and wakes the test on every delivery."""

    image = Input(msgs.Image, topic=IMAGE)  # newest only
    events = Input(msgs.KeyValue, topic=EVENTS, keep_all=1000)

    def setup(self):
        self.changed = threading.Condition()
        self.delivered = {IMAGE: 0, EVENTS: 0}
        self.synced = {IMAGE: None, EVENTS: None}
        self.events_seen = []  # KeyValues other than syncs, in order

    def on_image(self, msg):
        self._got(IMAGE, msg)

    def on_events(self, msg):
        self._got(EVENTS, msg)

    def _got(self, topic, msg):
        with self.changed:
            self.delivered[topic] += 1
            sync = sync_id_of(msg)
            if sync is not None:
                self.synced[topic] = sync
            elif topic == EVENTS:
                self.events_seen.append(msg)
            self.changed.notify_all()


class Live:
    """The node on its NodeThread, the feed, and a heartbeat subscriber."""

    def __init__(self, ipc_dir):
        self.context = zmq.Context()
        feed_ep, hb_ep = f"ipc://{ipc_dir}/feed", f"ipc://{ipc_dir}/hb"
        self.node = Target("target")
        self.ledger = Ledger({IMAGE: "target.image", EVENTS: "target.events"}, local=[IMAGE])
        self.feed = Feed(self.context, feed_ep, self.ledger)
        plan = {"image": [feed_ep], "events": [feed_ep], HEARTBEAT_TOPIC: [hb_ep]}
        self.runner = NodeThread(self.node, plan, context=self.context, heartbeat_period=0.02)
        self.runner.start()
        self.heartbeats = Subscriber(
            self.context, HEARTBEAT_TOPIC, [hb_ep], msgs.Heartbeat, QueuePolicy.make(keep_last=1)
        )
        self.sync_id = SYNC_BASE
        self.sync(repeat=0.05)  # the first sync also waits out the slow joiner

    def sync(self, repeat=None):
        """Send a sync on both inputs and wait until both are delivered.

        With `repeat` (seconds), send a new sync at that pace until the latest is delivered:
        until the node's subscriptions reach the feed, PUB drops everything.
        """
        deadline = time.monotonic() + TIMEOUT
        node = self.node
        with node.changed:
            while True:
                self.sync_id += 1
                for topic in (IMAGE, EVENTS):
                    self.feed.socket.send_multipart(sync_frames(topic, self.sync_id))
                left = deadline - time.monotonic()
                if node.changed.wait_for(self._synced, min(left, repeat or left)):
                    return
                assert time.monotonic() < deadline, f"sync {self.sync_id} never came: {node.synced}"

    def _synced(self):
        return all(v == self.sync_id for v in self.node.synced.values())

    def heartbeat_where(self, ok):
        """The inputs of the first heartbeat for which ok(inputs) holds."""
        deadline = time.monotonic() + TIMEOUT
        last = None
        while time.monotonic() < deadline:
            if self.heartbeats.socket.poll(100):
                self.heartbeats.drain()
                hb = self.heartbeats.take()
                last = hb.inputs if hb is not None else last
                if last is not None and ok(last):
                    return last
        raise AssertionError(f"no heartbeat accounted for every message; the last: {last}")

    def close(self):
        assert self.runner.stop(), "the node did not stop"
        self.heartbeats.close()
        self.feed.socket.close()
        self.context.term()


@pytest.fixture(scope="module")
def live(ipc_dir, problems):
    target = Live(ipc_dir)
    yield target
    target.close()


@FUZZ
@given(batches)
def test_a_live_node_survives_counts_and_keeps_delivering(live, problems, batch):
    node, ledger = live.node, live.ledger
    for frames in batch:
        live.feed.send(frames)
    live.sync()  # good messages sent after the bad ones arrive

    assert live.runner.error is None and not live.runner.done.is_set()
    with node.changed:
        delivered, events_seen = dict(node.delivered), list(node.events_seen)
    assert events_seen == ledger.good[EVENTS]  # keep_all: every good one, in order

    def accounted(inputs):
        ev, im = inputs["events"], inputs["image"]
        return (
            (ev["malformed"], ev["rejected"], ev["dropped"], ev["depth"])
            == (ledger.malformed(EVENTS), ledger.kinds[EVENTS]["wrong-type"], 0, 0)
            and ev["received"] == ev["malformed"] + ev["rejected"] + delivered[EVENTS]
            and im["depth"] == 0
            and im["received"]
            == im["malformed"] + im["rejected"] + im["dropped"] + delivered[IMAGE]
        )

    im = live.heartbeat_where(accounted)["image"]
    # newest-only: a bad message is either decoded and counted, or evicted unread by a newer one
    assert im["malformed"] + im["rejected"] <= ledger.sent[IMAGE] - len(ledger.good[IMAGE])
    # logged once per distinct (kind, input, source); all that the keep_all input met
    assert len(problems.keys) == len(set(problems.keys))
    logged = set(problems.keys)
    assert {p for p in logged if p[1] == "target.events"} == {
        p for p in ledger.problems if p[1] == "target.events"
    }
    assert {p for p in logged if p[1] == "target.image"} <= ledger.problems


# ---------------------------------------------------------------- subscribers, kind by kind


class Direct:
    """Two keep-all Subscribers (no evictions) read on the test's thread."""

    def __init__(self, ipc_dir):
        self.context = zmq.Context()
        ep = f"ipc://{ipc_dir}/direct"
        self.ledger = Ledger({t: "direct " + t for t in EXPECTS})
        self.feed = Feed(self.context, ep, self.ledger)
        self.subs = {
            t: Subscriber(
                self.context, t, [ep], cls, QueuePolicy.make(keep_all=1000), "direct " + t
            )
            for t, cls in EXPECTS.items()
        }
        self.sync_id = SYNC_BASE
        for topic in EXPECTS:
            self._sync(topic)
        self.base = {t: sub.received for t, sub in self.subs.items()}  # syncs received

    def _sync(self, topic):
        """Send syncs until the latest arrives: then nothing sent before it is in flight."""
        sub = self.subs[topic]
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            self.sync_id += 1
            self.feed.socket.send_multipart(sync_frames(topic, self.sync_id))
            if sub.socket.poll(50):
                sub.drain()
                if self.sync_id in [sync_id_of(m) for m in iter(sub.take, None)]:
                    return
        raise AssertionError(f"sync on {topic} never arrived")

    def receive(self, topic):
        """Wait until the subscriber holds every frame list sent to it; its good messages."""
        sub = self.subs[topic]
        deadline = time.monotonic() + TIMEOUT
        while sub.received - self.base[topic] < self.ledger.sent[topic]:
            assert time.monotonic() < deadline, f"{topic}: frame lists went missing"
            if sub.socket.poll(100):
                sub.drain()
        return list(iter(sub.take, None))

    def close(self):
        for sub in self.subs.values():
            sub.close()
        self.feed.socket.close()
        self.context.term()


@pytest.fixture(scope="module")
def direct(ipc_dir, problems):
    target = Direct(ipc_dir)
    yield target
    target.close()


@FUZZ
@given(batches)
def test_subscribers_count_each_problem_by_kind(direct, batch):
    ledger = direct.ledger
    good_before = {t: len(ledger.good[t]) for t in EXPECTS}
    for frames in batch:
        direct.feed.send(frames)
    for topic, sub in direct.subs.items():
        assert direct.receive(topic) == ledger.good[topic][good_before[topic] :]
        assert sub.received - direct.base[topic] == ledger.sent[topic]
        assert (sub.dropped, sub.depth) == (0, 0)
        kinds = ledger.kinds[topic]
        assert sub.malformed == collections.Counter(
            {k: n for k, n in kinds.items() if k != "wrong-type"}
        )
        assert sub.rejected == kinds["wrong-type"]
