"""Publisher and Subscriber over real ipc sockets."""

import os

import numpy as np
import pytest
import zmq

from nanobot import endpoints, msgs, slots
from nanobot.transport import (
    KEEP_LAST_DEPTH,
    MAX_SLOT_FAILURES,
    Publisher,
    QueuePolicy,
    Subscriber,
)

from conftest import wait_for


def kv(n):
    return msgs.KeyValue(values={"n": n})


PROBE, FENCE = -1, -2


def numbers(sub):
    """The n of every message queued in `sub`."""
    return [m.values["n"] for m in iter(sub.take, None)]


def connected(pub, sub, make=kv):
    """Return once `sub` receives from `pub`, with its queue empty.

    ZeroMQ drops what a PUB sends before a subscription reaches it (the slow joiner), so
    publish probes until one arrives; then a fence, and discard everything up to it (the
    probes still in flight arrive before it: one pipe keeps order).
    """

    def probe():
        pub.publish(make(PROBE), 0)
        sub.drain()

    wait_for(lambda: sub.depth > 0, poll=probe)
    pub.publish(make(FENCE), 0)
    fenced = []

    def flush():
        sub.drain()
        fenced.extend(m for m in iter(sub.take, None) if _n(m) == FENCE)

    wait_for(lambda: fenced, poll=flush)


def small_image(n):
    return msgs.Image(data=np.zeros((2, 2, 3), np.uint8), frame_id=n)


def _n(msg):
    return msg.frame_id if isinstance(msg, msgs.Image) else msg.values["n"]


@pytest.fixture
def graph():
    endpoints.prepare("g")
    return "g"


def test_message_arrives_with_header_and_read_only_arrays(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep], source="cam")
    sub = Subscriber(ctx, "camera/image", [ep], msgs.Image, QueuePolicy.make(keep_all=10))
    connected(pub, sub, small_image)
    frame = np.arange(480 * 640 * 3, dtype=np.uint32).astype(np.uint8).reshape(480, 640, 3)
    pub.publish(msgs.Image(data=frame, frame_id=7, stamp=123), 456)
    wait_for(lambda: sub.depth, poll=sub.drain)
    got = sub.take()
    assert got.frame_id == 7 and got.stamp == 123
    assert np.array_equal(got.data, frame)
    assert not got.data.flags.writeable
    assert not frame.flags.writeable, "a published array is handed over: read-only"
    pub.close()
    sub.close()


def test_topic_match_is_exact_not_prefix(ctx, graph):
    ep1 = endpoints.ipc_endpoint(graph, "a", "camera/image")
    ep2 = endpoints.ipc_endpoint(graph, "a", "camera/image2")
    p1, p2 = Publisher(ctx, "camera/image", [ep1]), Publisher(ctx, "camera/image2", [ep2])
    sub = Subscriber(ctx, "camera/image", [ep1, ep2], msgs.KeyValue)
    connected(p1, sub)
    for i in range(5):
        p2.publish(kv(100 + i), 0)
        p1.publish(kv(i), 0)
    got = []
    wait_for(lambda: got.extend(numbers(sub)) or len(got) >= 5, poll=sub.drain)
    assert got == [0, 1, 2, 3, 4]
    for s in (p1, p2, sub):
        s.close()


def test_several_publishers_on_one_topic(ctx, graph):
    eps = [endpoints.ipc_endpoint(graph, node, "status") for node in ("a", "b", "c")]
    pubs = [Publisher(ctx, "status", [ep], source=ep[-1]) for ep in eps]
    sub = Subscriber(ctx, "status", eps, msgs.KeyValue, QueuePolicy.make(keep_all=100))
    for p in pubs:
        connected(p, sub)
    for i, p in enumerate(pubs):
        p.publish(kv(i), 0)
    got = []
    wait_for(lambda: got.extend(numbers(sub)) or len(got) >= 3, poll=sub.drain)
    assert sorted(got) == [0, 1, 2]
    for s in [*pubs, sub]:
        s.close()


def test_subscriber_may_start_before_publisher(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "late", "t")
    sub = Subscriber(ctx, "t", [ep], msgs.KeyValue)  # nothing is bound there yet
    pub = Publisher(ctx, "t", [ep])
    connected(pub, sub)
    pub.publish(kv(1), 0)
    got = []
    wait_for(lambda: got.extend(numbers(sub)) or got, poll=sub.drain)
    assert got == [1]
    pub.close()
    sub.close()


def test_keep_last_keeps_newest_and_counts_the_rest_dropped(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "p", "t")
    pub = Publisher(ctx, "t", [ep], hwm=1000)
    sub = Subscriber(ctx, "t", [ep], msgs.KeyValue, QueuePolicy.make(keep_last=2))
    connected(pub, sub)
    sub.socket.setsockopt(zmq.RCVHWM, 1000)
    for i in range(50):
        pub.publish(kv(i), 0)
    before = sub.received, sub.dropped
    wait_for(lambda: sub.received - before[0] >= 50, poll=sub.drain)
    assert numbers(sub) == [48, 49]
    assert sub.dropped - before[1] == 48
    pub.close()
    sub.close()


def test_slow_subscriber_never_blocks_publisher(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "p", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep], hwm=4)
    # newest only, frames over the socket (on the local channel only headers queue up)
    sub = Subscriber(ctx, "camera/image", [ep], msgs.Image, local=False)
    connected(pub, sub, small_image)
    before = sub.received
    frame = np.zeros((480, 640, 3), np.uint8)
    for i in range(500):  # the subscriber reads nothing meanwhile; PUB must not block
        pub.publish(msgs.Image(data=frame.copy(), frame_id=i), 0)
    probes = iter(range(1000, 10**6))

    def wake_up():
        pub.publish(small_image(next(probes)), 0)
        sub.drain()
        sub.take()

    wait_for(lambda: sub.latest.frame_id >= 1000, poll=wake_up)
    # What ZeroMQ held for the sleeping reader is bounded by the high-water marks, not by
    # what was published (the publisher's 4, the subscriber's KEEP_LAST_DEPTH, a few in the
    # kernel): the rest was dropped, for this subscriber alone.
    assert sub.received - before < KEEP_LAST_DEPTH + 30
    pub.close()
    sub.close()


def test_publisher_close_removes_its_ipc_file_and_stale_files_do_not_break_bind(ctx, graph):
    path = endpoints.ipc_path(graph, "p", "t")
    with open(path, "w") as f:  # what a crashed run leaves behind
        f.write("stale")
    pub = Publisher(ctx, "t", ["ipc://" + path])
    assert endpoints.discover(graph, "t") == [("t", "p", "ipc://" + path)]
    pub.close()
    assert not os.path.exists(path)


def test_ipc_path_too_long_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("NANOBOT_IPC_DIR", "/tmp/" + "x" * 90)
    with pytest.raises(ValueError, match="NANOBOT_IPC_DIR"):
        endpoints.ipc_path("graph", "node", "a/long/topic")


def test_queue_policy_rules():
    assert QueuePolicy.make(msg_type=msgs.Image) == (1, None)
    assert QueuePolicy.make() == (None, 1000)
    assert str(QueuePolicy.make(keep_all=5)) == "keep_all=5"
    with pytest.raises(ValueError, match="not both"):
        QueuePolicy.make(keep_last=1, keep_all=2)
    with pytest.raises(ValueError, match="keep_last must be an int >= 1"):
        QueuePolicy.make(keep_last=0)


# -- the local channel: frames through shared-memory slots


def vga(n):
    return msgs.Image(data=np.full((480, 640, 3), n % 256, np.uint8), frame_id=n)


def test_a_frame_input_on_the_same_host_takes_frames_from_shared_memory(ctx, graph, shm_dir):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep], source="cam")
    local = Subscriber(ctx, "camera/image", [ep], msgs.Image)  # keep_last=1: a frame input
    assert local.local
    connected(pub, local, vga)
    written = pub._slots.written
    pub.publish(vga(42), 0)
    wait_for(lambda: local.depth, poll=local.drain)
    got = local.take()
    assert got.frame_id == 42 and int(got.data[0, 0, 0]) == 42 and got.data.sum() == 42 * 921600
    assert not got.data.flags.writeable
    assert pub._slots.written == written + 1  # one copy, into a slot
    assert os.listdir(shm_dir) == [os.path.basename(pub._slots.path)]
    pub.close()
    local.close()
    assert os.listdir(shm_dir) == []


def test_with_a_subscriber_off_the_local_channel_frames_go_over_the_socket_to_all(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep], source="cam")
    local = Subscriber(ctx, "camera/image", [ep], msgs.Image)
    inline = Subscriber(ctx, "camera/image", [ep], msgs.Image, QueuePolicy.make(keep_all=10))
    assert local.local and not inline.local
    connected(pub, inline, vga)
    written = pub._slots.written
    pub.publish(vga(42), 0)
    got = {local: [], inline: []}

    def poll():
        for sub, frames in got.items():
            sub.drain()
            frames.extend(m for m in iter(sub.take, None) if m.frame_id == 42)

    wait_for(lambda: all(got.values()), poll=poll)
    assert [len(g) for g in got.values()] == [1, 1]  # once each
    a, b = got[local][0], got[inline][0]
    assert np.array_equal(a.data, b.data) and int(a.data[0, 0, 0]) == 42
    assert pub._slots.written == written and pub._inline and not pub._local
    inline.close()  # the last subscriber off the local channel goes: back to the slots
    wait_for(lambda: pub._local, poll=lambda: pub.publish(vga(43), 0))
    for s in (pub, local):
        s.close()


def test_small_messages_on_the_local_channel_travel_in_frames(ctx, graph):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep])
    sub = Subscriber(ctx, "camera/image", [ep], msgs.Image)
    connected(pub, sub, small_image)
    assert sub.local and pub._local and pub._slots.written == 0


@pytest.mark.parametrize(
    "why, make",
    [
        (
            "keep_all",
            lambda ctx, ep: Subscriber(ctx, "t", [ep], msgs.Image, QueuePolicy.make(keep_all=5)),
        ),
        ("tcp", lambda ctx, ep: Subscriber(ctx, "t", [ep, "tcp://127.0.0.1:1"], msgs.Image)),
        ("asked", lambda ctx, ep: Subscriber(ctx, "t", [ep], msgs.Image, local=False)),
    ],
)
def test_inputs_that_stay_off_the_local_channel(ctx, graph, why, make):
    sub = make(ctx, endpoints.ipc_endpoint(graph, "p", "t"))
    assert not sub.local
    sub.close()


def test_nanobot_shm_0_turns_the_local_channel_off(ctx, graph, monkeypatch):
    monkeypatch.setenv("NANOBOT_SHM", "0")
    sub = Subscriber(ctx, "t", [endpoints.ipc_endpoint(graph, "p", "t")], msgs.Image)
    assert not sub.local
    sub.close()


def test_a_later_tcp_publisher_moves_the_input_to_the_topic(ctx, graph, caplog):
    ep = endpoints.ipc_endpoint(graph, "p", "t")
    sub = Subscriber(ctx, "t", [ep], msgs.Image)
    sub.connect("tcp://127.0.0.1:1")
    assert not sub.local and "tcp://127.0.0.1:1 is not on this host" in caplog.text
    sub.close()


def test_unreadable_slots_move_the_input_to_the_topic_and_frames_keep_coming(
    ctx, graph, monkeypatch, tmp_path, caplog
):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep])
    sub = Subscriber(ctx, "camera/image", [ep], msgs.Image)
    connected(pub, sub, vga)
    big = msgs.Image(data=np.zeros((720, 1280, 3), np.uint8), frame_id=1)
    pub.publish(big, 0)  # into a new slot file, which this process has not opened
    # The reader finds another file of that name where it looks (as a container with its own
    # /dev/shm, sharing the ipc directory, might).
    (tmp_path / os.path.basename(pub._slots.path)).write_bytes(b"\0" * 8192)
    monkeypatch.setenv("NANOBOT_SHM_DIR", str(tmp_path))
    for failures in range(1, MAX_SLOT_FAILURES + 1):
        if failures > 1:
            pub.publish(big, 0)
        wait_for(lambda: sub.depth, poll=sub.drain)
        assert sub.take() is None and sub.malformed["shm"] == failures
        assert sub.local  # until MAX_SLOT_FAILURES in a row
    sub.drain()  # acts on it: leaves the local channel
    assert not sub.local and "could not be read from shared memory" in caplog.text
    got = []

    def poll():
        pub.publish(vga(2), 0)
        sub.drain()
        got.extend(iter(sub.take, None))

    wait_for(lambda: got, poll=poll)
    assert got[0].frame_id == 2 and not pub._local and pub._inline
    pub.close()
    sub.close()


def test_a_publisher_with_no_subscriber_still_refuses_a_bad_message(ctx, graph):
    pub = Publisher(ctx, "t", [endpoints.ipc_endpoint(graph, "p", "t")])
    with pytest.raises(TypeError, match="cannot encode KeyValue"):
        pub.publish(msgs.KeyValue(values={"x": object()}), 0)
    pub.close()


def test_a_publisher_without_slots_sends_frames_over_the_socket_to_local_inputs(
    ctx, graph, shm_dir
):
    ep = endpoints.ipc_endpoint(graph, "cam", "camera/image")
    pub = Publisher(ctx, "camera/image", [ep], slots=0)
    sub = Subscriber(ctx, "camera/image", [ep], msgs.Image)
    assert sub.local
    connected(pub, sub, vga)
    pub.publish(vga(7), 0)
    got = []
    wait_for(lambda: got, poll=lambda: (sub.drain(), got.extend(iter(sub.take, None))))
    assert got[0].frame_id == 7 and int(got[0].data[0, 0, 0]) == 7
    assert not isinstance(got[0].data.base, slots._Lease) and os.listdir(shm_dir) == []
    pub.close()
    sub.close()
