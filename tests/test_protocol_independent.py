"""An independent client, taken verbatim from docs/protocol.md, talks with nanobot over ipc.

The client (plain pyzmq + msgpack + numpy) runs in its own process for both directions: it
publishes an Image and Detections that a nanobot Subscriber and a Node on a NodeThread must
receive, and it subscribes to nanobot Publishers and reports what it decoded. PUB/SUB drops
whatever is sent before a subscription is in place, so each sender repeats its messages until
the receiver confirms, within an overall timeout.
"""

import ast
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest
import zmq

from nanobot import codec, endpoints, msgs
from nanobot.node import Input, Node
from nanobot.runtime import NodeThread
from nanobot.transport import Publisher, Subscriber

from docblocks import named_block

GRAPH = "wire"
TIMEOUT = 30.0  # seconds, for a whole exchange on a loaded machine
CLIENT_IMPORTS = {"fcntl", "os", "re", "tempfile", "urllib", "msgpack", "numpy", "zmq"}


def pattern(frame_id, shape=(48, 64, 3)):
    """The Image data both sides expect for `frame_id`."""
    return ((np.arange(np.prod(shape)) + frame_id) % 251).astype(np.uint8).reshape(shape)


BOXES = [[1.0, 2.0, 30.5, 40.0], [5.0, 6.0, 7.0, 8.25]]


@pytest.fixture
def ipc_dir(monkeypatch):
    path = tempfile.mkdtemp(prefix="nbw-")  # short: Unix socket paths are limited to 107 bytes
    monkeypatch.setenv("NANOBOT_IPC_DIR", path)
    endpoints.prepare(GRAPH)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def client_dir(tmp_path):
    (tmp_path / "wire_client.py").write_text(named_block("protocol.md", "python", "wire_client.py"))
    return str(tmp_path)


@pytest.fixture
def wire(client_dir, monkeypatch):
    """The doc's client imported in this process (for in-process comparisons only)."""
    monkeypatch.syspath_prepend(client_dir)
    sys.modules.pop("wire_client", None)
    import wire_client

    yield wire_client
    sys.modules.pop("wire_client", None)


class Child:
    """A Python subprocess running `script` with the doc's client importable; it reports by
    printing JSON lines, which a thread collects."""

    def __init__(self, script, client_dir, ipc_dir, args=None):
        env = dict(os.environ, NANOBOT_IPC_DIR=ipc_dir, PYTHONPATH=client_dir)
        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed by kill())
        self.proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), json.dumps(args)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            env=env,
            cwd=client_dir,
        )
        self.lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line.decode()))
        self.lines.put(None)  # end of output

    def line(self, timeout):
        """The next line the child printed, or None if none came within `timeout` seconds."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self.stderr.seek(0)
            raise AssertionError(f"the client process ended: {self.stderr.read().decode()}")
        return line

    def finish(self, stdin=b""):
        """Send `stdin`, wait for the child to exit cleanly; returns its last line."""
        self.proc.stdin.write(stdin)
        self.proc.stdin.close()
        self.proc.wait(TIMEOUT)
        self._reader.join(TIMEOUT)
        self.stderr.seek(0)
        assert self.proc.returncode == 0, self.stderr.read().decode()
        lines = []
        while True:
            line = self.lines.get_nowait()
            if line is None:
                return lines[-1]
            lines.append(line)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()


# ---------------------------------------------------------------- the client is independent


def test_client_imports_only_pyzmq_msgpack_numpy_and_the_stdlib():
    tree = ast.parse(named_block("protocol.md", "python", "wire_client.py"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == CLIENT_IMPORTS


def test_client_endpoint_layout_is_nanobots(wire, ipc_dir):
    for node, topic in [("cam", "camera/image"), ("n-1.x", "odd topic/ü%@")]:
        assert wire.ipc_endpoint(GRAPH, node, topic) == endpoints.ipc_endpoint(GRAPH, node, topic)


def test_client_header_bytes_equal_nanobots(wire):
    msg = msgs.Detections(
        boxes=np.array(BOXES, np.float32),
        scores=np.array([0.5, 0.25], np.float32),
        class_ids=np.array([0, 1], np.int32),
        class_names=["cat", "dog"],
        image_stamp=7,
        image_frame_id=3,
    )
    ours = codec.encode(msg, "detections", seq=4, stamp=99, source="det")
    fields = {n: getattr(msg, n) for n in msg.header_fields}
    arrays = [(n, getattr(msg, n)) for n in msg.array_fields]
    theirs = wire.encode("detections", "nanobot/Detections", fields, arrays, 4, 99, "det")
    assert theirs[:2] == ours[:2]
    assert [bytes(memoryview(a)) for a in theirs[2:]] == [a.tobytes() for a in ours[2:]]


# ---------------------------------------------------------------- independent -> nanobot

PUBLISHER = """
    import json, select, sys, time
    import numpy as np, zmq
    import wire_client as wire

    ctx = zmq.Context.instance()
    img = wire.publisher(ctx, wire.ipc_endpoint("wire", "indep", "camera/image"))
    det = wire.publisher(ctx, wire.ipc_endpoint("wire", "indep", "detections"))
    args = json.loads(sys.argv[1])
    boxes = np.array(args["boxes"], ">f4")  # big endian on purpose: receivers honour byte order
    seq, deadline = 0, time.monotonic() + args["timeout"]
    while time.monotonic() < deadline:
        data = ((np.arange(48 * 64 * 3) + seq) % 251).astype(np.uint8).reshape(48, 64, 3)
        img.send_multipart(wire.encode(
            "camera/image", "nanobot/Image",
            {"encoding": "bgr8", "frame_id": seq, "stamp": 1000 + seq}, [("data", data)],
            seq=seq, stamp=2000 + seq, source="indep"), copy=False)
        det.send_multipart(wire.encode(
            "detections", "nanobot/Detections",
            {"class_names": ["cat", "dog"], "image_frame_id": seq, "image_stamp": 1000 + seq},
            [("boxes", boxes), ("scores", np.array([0.5, 0.25], "<f4")),
             ("class_ids", np.array([0, 1], "<i4"))],
            seq=seq, stamp=2000 + seq, source="indep"), copy=False)
        seq += 1
        # Repeat until the receiver says it has everything (a line on stdin); this wait only
        # paces the repeats.
        if select.select([sys.stdin], [], [], 0.01)[0]:
            break
    ours = [m for m in sys.modules if m.partition(".")[0] == "nanobot"]
    print(json.dumps({"sent": seq, "nanobot": ours}))
"""


class Receiver(Node):
    image = Input(msgs.Image, topic="camera/image")
    dets = Input(msgs.Detections, topic="detections")

    def setup(self):
        self.got = {"image": [], "dets": []}
        self.both = threading.Event()

    def on_image(self, msg):
        self.got["image"].append(msg)
        self._check()

    def on_dets(self, msg):
        self.got["dets"].append(msg)
        self._check()

    def _check(self):
        if self.got["image"] and self.got["dets"]:
            self.both.set()


def check_image(img):
    assert img.encoding == "bgr8"
    assert img.stamp == 1000 + img.frame_id
    np.testing.assert_array_equal(img.data, pattern(img.frame_id))
    assert not img.data.flags.writeable


def check_detections(det):
    assert len(det) == 2
    assert det.boxes.dtype == np.dtype(">f4")
    np.testing.assert_array_equal(det.boxes, np.array(BOXES, np.float32))
    np.testing.assert_array_equal(det.scores, [0.5, 0.25])
    assert det.class_ids.tolist() == [0, 1]
    assert [det.label(0), det.label(1)] == ["cat", "dog"]
    assert det.image_stamp == 1000 + det.image_frame_id


def test_independent_publisher_reaches_nanobot_subscribers_and_a_node(client_dir, ipc_dir):
    child = Child(PUBLISHER, client_dir, ipc_dir, {"boxes": BOXES, "timeout": TIMEOUT})
    ctx = zmq.Context()
    plan = {
        "image": [endpoints.ipc_endpoint(GRAPH, "indep", "camera/image")],
        "dets": [endpoints.ipc_endpoint(GRAPH, "indep", "detections")],
    }
    node = Receiver("receiver")
    runner = NodeThread(node, plan, context=ctx)
    subs = [
        Subscriber(ctx, "camera/image", plan["image"], msgs.Image),
        Subscriber(ctx, "detections", plan["dets"], msgs.Detections),
    ]
    try:
        runner.start()
        poller = zmq.Poller()
        for s in subs:
            poller.register(s.socket, zmq.POLLIN)
        got = {}
        deadline = time.monotonic() + TIMEOUT
        while len(got) < 2 and time.monotonic() < deadline:
            for sock, _ in poller.poll(100):
                sub = next(s for s in subs if s.socket is sock)
                sub.drain()
                msg = sub.take()
                if msg is not None:
                    got[sub.topic] = msg
        assert node.both.wait(max(0.0, deadline - time.monotonic())), "the node received nothing"
        report = child.finish(b"stop\n")
    finally:
        child.kill()
        runner.stop()
        for s in subs:
            s.close()
        ctx.term()
    assert set(got) == {"camera/image", "detections"}, "a nanobot Subscriber received nothing"
    assert report["nanobot"] == []
    check_image(got["camera/image"])
    check_detections(got["detections"])
    for msg in node.got["image"]:
        check_image(msg)
    for msg in node.got["dets"]:
        check_detections(msg)
    assert all(sum(s.malformed.values()) == 0 and s.rejected == 0 for s in subs)


# ---------------------------------------------------------------- nanobot -> independent

SUBSCRIBER = """
    import json, sys
    import zmq
    import wire_client as wire

    ctx = zmq.Context.instance()
    sock = wire.subscriber(ctx, [wire.ipc_endpoint("wire", "pub", "camera/image")], "camera/image")
    sock.setsockopt(zmq.SUBSCRIBE, wire.topic_frame("detections"))
    sock.connect(wire.ipc_endpoint("wire", "pub", "detections"))
    seen = {}
    while len(seen) < 3:  # an Image, Detections with boxes, Detections without
        topic, header, arrays = wire.decode(sock.recv_multipart(copy=False))
        key = "%s/%d" % (header["type"], len(arrays["boxes"]) if "boxes" in arrays else -1)
        seen[key] = {
            "topic": topic,
            "header": {k: v for k, v in header.items() if k != "arrays"},
            "arrays": {name: {"dtype": a.dtype.str, "shape": list(a.shape),
                              "writeable": a.flags.writeable, "values": a.ravel().tolist()}
                       for name, a in arrays.items()},
        }
        print(json.dumps({"got": key}), flush=True)
    ours = [m for m in sys.modules if m.partition(".")[0] == "nanobot"]
    print(json.dumps({"seen": seen, "nanobot": ours}))
"""


def test_independent_subscriber_decodes_nanobot_publishers(client_dir, ipc_dir):
    ctx = zmq.Context()
    image_pub, det_pub = (
        Publisher(ctx, topic, [endpoints.ipc_endpoint(GRAPH, "pub", topic)], "pub")
        for topic in ("camera/image", "detections")
    )
    child = Child(SUBSCRIBER, client_dir, ipc_dir)
    try:
        deadline = time.monotonic() + TIMEOUT
        wanted = 3
        while wanted and time.monotonic() < deadline:
            n = image_pub.sent
            image_pub.publish(msgs.Image(data=pattern(n), frame_id=n, stamp=5000 + n), 7000 + n)
            det_pub.publish(
                msgs.Detections(
                    boxes=np.array(BOXES, np.float32),
                    scores=np.array([0.5, 0.25], np.float32),
                    class_ids=np.array([0, 1], np.int32),
                    class_names=["cat", "dog"],
                    image_frame_id=n,
                ),
                7000 + n,
            )
            det_pub.publish(msgs.Detections(image_frame_id=n), 7000 + n)
            # Repeat until the child has reported each of the three kinds it waits for.
            while wanted and child.line(0.01) is not None:
                wanted -= 1
        assert wanted == 0, "the independent subscriber did not receive all three kinds"
        report = child.finish()
    finally:
        child.kill()
        image_pub.close()
        det_pub.close()
        ctx.term()
    assert report["nanobot"] == []
    seen = report["seen"]
    assert set(seen) == {"nanobot/Image/-1", "nanobot/Detections/2", "nanobot/Detections/0"}

    img = seen["nanobot/Image/-1"]
    n = img["header"]["seq"]
    assert img["topic"] == "camera/image"
    assert img["header"] == {
        "protocol": 1, "type": "nanobot/Image", "type_version": 1, "seq": n,
        "stamp": 7000 + n, "source": "pub",
        "fields": {"encoding": "bgr8", "frame_id": n, "stamp": 5000 + n},
    }  # fmt: skip
    data = img["arrays"]["data"]
    assert (data["dtype"], data["shape"], data["writeable"]) == ("|u1", [48, 64, 3], False)
    assert data["values"] == pattern(n).ravel().tolist()

    det = seen["nanobot/Detections/2"]
    assert det["topic"] == "detections"
    assert det["header"]["fields"]["class_names"] == ["cat", "dog"]
    assert det["header"]["stamp"] == 7000 + det["header"]["fields"]["image_frame_id"]
    assert det["arrays"]["boxes"]["shape"] == [2, 4]
    assert det["arrays"]["boxes"]["values"] == [v for box in BOXES for v in box]
    assert det["arrays"]["class_ids"] == {
        "dtype": "<i4",
        "shape": [2],
        "writeable": False,
        "values": [0, 1],
    }

    empty = seen["nanobot/Detections/0"]["arrays"]
    assert {k: (v["shape"], v["values"]) for k, v in empty.items()} == {
        "boxes": ([0, 4], []), "scores": ([0], []), "class_ids": ([0], [])
    }  # fmt: skip


# ---------------------------------------------------------------- shared memory, both ways

LOCAL_SUBSCRIBER = """
    import json, sys
    import msgpack, zmq
    import wire_client as wire

    ctx = zmq.Context.instance()
    endpoint = wire.ipc_endpoint("wire", "pub", "camera/image")
    sock = wire.subscriber(ctx, [endpoint], "camera/image", local=True)
    while True:
        frames = sock.recv_multipart(copy=False)
        desc = msgpack.unpackb(frames[1].bytes)["arrays"][0]
        try:
            topic, header, arrays = wire.decode(frames)
        except ValueError as e:  # a slot reused before we read it: take the next frame
            continue
        image = arrays["data"]
        print(json.dumps({
            "topic": topic, "frame_id": header["fields"]["frame_id"], "shm": "shm" in desc,
            "frame_bytes": len(frames[2].bytes), "shape": list(image.shape),
            "sum": int(image.sum(dtype="u8")), "first": int(image.ravel()[0]),
        }), flush=True)
        break
"""


def test_independent_local_subscriber_reads_frames_from_shared_memory(client_dir, ipc_dir):
    shape = (96, 128, 3)  # 36,864 bytes: large enough for a slot
    ctx = zmq.Context()
    pub = Publisher(ctx, "camera/image", [endpoints.ipc_endpoint(GRAPH, "pub", "camera/image")])
    child = Child(LOCAL_SUBSCRIBER, client_dir, ipc_dir)
    try:
        deadline = time.monotonic() + TIMEOUT
        line = None
        while line is None and time.monotonic() < deadline:
            n = pub.sent
            pub.publish(msgs.Image(data=pattern(n, shape), frame_id=n), 0)
            line = child.line(0.01)
        assert line is not None, "the independent local subscriber decoded nothing"
        assert child.proc.wait(TIMEOUT) == 0
    finally:
        child.kill()
        pub.close()
        ctx.term()
    n = line["frame_id"]
    assert line["topic"] == "camera/image" and line["shape"] == list(shape)
    assert line["shm"] and line["frame_bytes"] == 0, "the frame did not come through a slot"
    assert line["sum"] == int(pattern(n, shape).sum(dtype="u8"))
    assert line["first"] == int(pattern(n, shape).ravel()[0])
