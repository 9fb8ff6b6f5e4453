"""One-way latency and throughput of nanobot's transport against raw pyzmq, between processes.

    python -m benchmarks.transport                  # a table
    python -m benchmarks.transport --json           # every figure, as one JSON object
    python -m benchmarks.transport --quick --sizes 64,921600

For each payload size a sender process (multiprocessing, spawn) publishes to this process over a
real ipc:// socket, twice: through nanobot's Publisher and Subscriber carrying an Image, and
through plain pyzmq PUB/SUB carrying the same payload as [topic, 16-byte header, payload]
(multipart, copy=False): the same frame count, socket options, queue sizes and pacing.

- latency: the sender stamps each message with CLOCK_MONOTONIC (time.monotonic(), one clock
  for all processes on Linux) and sends the next only once the receiver has acknowledged the
  last, so every message finds empty queues. The receiver reads the clock once it holds the
  message decoded into its array. The first messages warm up and are not counted.
- throughput: the sender sends back to back; the receiver keeps every message (high-water marks
  and nanobot's keep_all queue hold the whole burst), checks that all arrived in order, and
  divides their count by the time from the first send to the last message decoded.
- memcpy: np.copyto of the payload in this process: what one copy of it costs here.

Timing starts only after the slow-joiner handshake: the sender publishes probes until the
receiver has one, because only a received message proves that the subscription is in effect.
"""

import argparse
import collections
import datetime
import json
import multiprocessing
import os
import platform
import shutil
import struct
import sys
import tempfile
import time

import msgpack
import numpy as np
import zmq

from nanobot import msgs, transport

SIZES = (64, 64 * 1024, 640 * 480 * 3, 1280 * 720 * 3)
FRAME_BYTES = 640 * 480 * 3  # payloads this big or bigger are camera frames for the targets
RESOLUTIONS = ((320, 240), (640, 480), (1280, 720), (1920, 1080))
TOPIC = "bench/payload"
TOPIC_FRAME = b"bench/payload\0"  # the frame nanobot's codec makes for TOPIC
RAW_HEADER = struct.Struct("<qq")  # index, send stamp (ns)
PROBE = -1  # the index of handshake messages, which the receiver skips
PROBE_INTERVAL_S = 0.002
TIMEOUT_S = 30.0


class Settings(collections.namedtuple("Settings", "count rounds burst max_burst_bytes")):
    """Per transport: `count` paced messages for latency and `rounds` bursts of `burst`
    back-to-back messages for throughput (fewer if they would hold over `max_burst_bytes`).

    The paced messages go in `rounds` blocks, each after a warm-up of its own."""

    @classmethod
    def make(cls, count, quick=False):
        if quick:
            return cls(count, 2, 5 * count, 32 << 20)
        return cls(count, 10, 2 * count, 512 << 20)

    @property
    def block(self):
        return max(1, self.count // self.rounds)

    @property
    def warmup(self):
        return max(5, self.block // 10)

    def burst_for(self, size):
        return max(10, min(self.burst, self.max_burst_bytes // size))


def now_ns():
    """CLOCK_MONOTONIC in ns: comparable between processes on one Linux host."""
    return int(time.monotonic() * 1e9)


def payload_shape(size):
    """The shape of the Image carrying `size` bytes: a bgr8 frame for a usual camera resolution,
    else mono8, square when `size` is a square number and one row otherwise."""
    for width, height in RESOLUTIONS:
        if size == width * height * 3:
            return (height, width, 3)
    side = round(size**0.5)
    return (side, side) if side * side == size else (1, size)


# ------------------------------------------------------------------ the two transports


class RawSender:
    """A plain PUB socket sending [topic, (index, stamp), payload] with copy=False."""

    def __init__(self, context, endpoint, payload, hwm):
        self.payload = payload
        self.socket = context.socket(zmq.PUB)
        self.socket.setsockopt(zmq.SNDHWM, hwm)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.bind(endpoint)

    def send(self, index):
        header = RAW_HEADER.pack(index, now_ns())
        self.socket.send_multipart([TOPIC_FRAME, header, self.payload], copy=False)

    def close(self):
        self.socket.close()


class NanobotSender:
    """nanobot's Publisher sending Images (frame_id = index, stamp = send time)."""

    def __init__(self, context, endpoint, payload, hwm):
        self.payload = payload
        self.encoding = "bgr8" if payload.ndim == 3 else "mono8"
        self.publisher = transport.Publisher(context, TOPIC, [endpoint], "bench", hwm)

    def send(self, index):
        stamp = now_ns()
        image = msgs.Image(self.payload, self.encoding, frame_id=index, stamp=stamp)
        self.publisher.publish(image, stamp)

    def close(self):
        self.publisher.close()


class RawReceiver:
    """A plain SUB socket, read by blocking recv: the quickest way to wait with pyzmq.

    Its options are those nanobot's Subscriber sets for a keep_all queue, plus RCVTIMEO so that
    a benchmark gone wrong stops."""

    def __init__(self, context, endpoint, shape, queue):
        self.shape = shape
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.RCVHWM, 2 * queue)
        self.socket.setsockopt(zmq.RCVTIMEO, int(TIMEOUT_S * 1000))
        self.socket.setsockopt(zmq.SUBSCRIBE, TOPIC_FRAME)
        self.socket.connect(endpoint)
        self.dropped = 0  # a raw socket cannot tell; lost messages show as gaps in the index

    def messages(self):
        """(index, stamp) of each message as it arrives, once its payload is an array."""
        recv = self.socket.recv_multipart
        while True:
            try:
                frames = recv(copy=False)
            except zmq.Again:
                raise TimeoutError from None
            np.frombuffer(frames[2].buffer, np.uint8).reshape(self.shape)
            yield RAW_HEADER.unpack(frames[1].bytes)

    def close(self):
        self.socket.close()


class NanobotReceiver:
    """nanobot's Subscriber with a keep_all queue, read as a node's receiver reads it: wait
    (poll), drain the socket into the queue, take messages decoded from the queue."""

    def __init__(self, context, endpoint, shape, queue):
        policy = transport.QueuePolicy.make(keep_all=queue)
        self.subscriber = transport.Subscriber(context, TOPIC, [endpoint], msgs.Image, policy)

    @property
    def dropped(self):
        sub = self.subscriber
        return sub.dropped + sub.rejected + sum(sub.malformed.values())

    def messages(self):
        """(index, stamp) of each message as it arrives, decoded into an Image."""
        sub = self.subscriber
        while True:
            if not sub.wait(TIMEOUT_S * 1000):
                raise TimeoutError
            sub.drain()
            msg = sub.take()
            while msg is not None:
                yield msg.frame_id, msg.stamp
                msg = sub.take()

    def close(self):
        self.subscriber.close()


class NanobotLocalReceiver(NanobotReceiver):
    """nanobot's Subscriber as a camera-frame input on the publisher's host gets it:
    keep_last=1, on the topic's local channel (arrays of 16 KiB and more through
    shared-memory slots). Latency only: keep_last drops by design, so no bursts."""

    def __init__(self, context, endpoint, shape, queue):
        policy = transport.QueuePolicy.make(keep_last=1)
        self.subscriber = transport.Subscriber(context, TOPIC, [endpoint], msgs.Image, policy)
        if not self.subscriber.local:
            raise RuntimeError("the local-channel receiver is not local: is NANOBOT_SHM=0 set?")

    @property
    def dropped(self):  # newest-only drops late probes by design; a lost message shows as a gap
        sub = self.subscriber
        return sub.rejected + sum(sub.malformed.values())


TRANSPORTS = {
    "raw": (RawSender, RawReceiver),
    "nanobot": (NanobotSender, NanobotReceiver),
    "local": (NanobotSender, NanobotLocalReceiver),
}
KINDS = ("raw", "nanobot", "local")
BURST_KINDS = ("raw", "nanobot")  # the local receiver keeps the newest only


# ------------------------------------------------------------------ one payload size


def _sender_main(endpoints, shape, hwm, conn):
    """The sender process: probe until the receiver answers, then run its commands."""
    context = zmq.Context()
    payload = np.full(shape, 7, np.uint8)
    senders = {kind: TRANSPORTS[kind][0](context, ep, payload, hwm) for kind, ep in endpoints}
    try:
        while not conn.poll(PROBE_INTERVAL_S):
            for sender in senders.values():
                sender.send(PROBE)
        conn.recv_bytes()  # the receiver has a probe of each: its subscriptions are in effect
        for command, kind, count in iter(conn.recv, None):
            send = senders[kind].send
            for index in range(count):
                send(index)
                if command == "latency":
                    conn.recv_bytes()  # the receiver's acknowledgement
    except EOFError:  # the receiver went away
        pass
    finally:
        for sender in senders.values():
            sender.close()
        context.term()


class Session:
    """A sender process publishing one payload size to this process over both transports.

    The transports take turns, block by block, so that whatever else the machine is doing
    weighs on both alike. (Message by message would be unfair: each message would pay for the
    clean-up after the other transport's last one.)
    """

    def __init__(self, size, workdir, queue):
        self.size = size
        shape = payload_shape(size)
        self._context = zmq.Context()
        endpoints = [(kind, f"ipc://{workdir}/{kind}-{size}") for kind in KINDS]
        self.receivers = {
            kind: TRANSPORTS[kind][1](self._context, ep, shape, queue) for kind, ep in endpoints
        }
        spawn = multiprocessing.get_context("spawn")
        self._conn, child_conn = spawn.Pipe()
        self._process = spawn.Process(
            target=_sender_main, args=(endpoints, shape, queue, child_conn), daemon=True
        )
        self._process.start()
        child_conn.close()
        self._arrivals = {kind: self._arrive(kind) for kind in KINDS}

    def _arrive(self, kind):
        """(index, send stamp, receive stamp) of each `kind` message, probes included."""
        try:
            for index, stamp in self.receivers[kind].messages():
                yield index, stamp, now_ns()
        except TimeoutError:
            raise RuntimeError(
                f"no {self.size}-byte message came through {kind} in {TIMEOUT_S:.0f} s: the "
                "sender died or messages were dropped"
            ) from None

    def _next(self, kind, expected):
        """The next `kind` message but probes, which must be number `expected`."""
        index = PROBE
        while index == PROBE:
            index, stamp, received = next(self._arrivals[kind])
        if index != expected:
            raise RuntimeError(
                f"{kind} message {index} arrived where {expected} was expected: messages were lost"
            )
        return stamp, received

    def handshake(self):
        for kind in KINDS:
            next(self._arrivals[kind])  # a probe
        self._conn.send_bytes(b"")

    def latency_ns(self, kind, count):
        """One-way latency of `count` `kind` messages, each sent alone, in ns."""
        self._conn.send(("latency", kind, count))
        samples = []
        for index in range(count):
            stamp, received = self._next(kind, index)
            samples.append(received - stamp)
            self._conn.send_bytes(b"")
        return samples

    def burst_s(self, kind, count):
        """Seconds from sending the first of `count` back-to-back `kind` messages to receiving
        the last."""
        self._conn.send(("burst", kind, count))
        first, _ = self._next(kind, 0)
        for index in range(1, count):
            _, last = self._next(kind, index)
        return (last - first) / 1e9

    def close(self):
        try:
            self._conn.send(None)
        except OSError:
            pass
        self._process.join(TIMEOUT_S)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._conn.close()
        for receiver in self.receivers.values():
            receiver.close()
        self._context.term()


def _latency_figures(samples_ns):
    us = np.array(samples_ns) / 1e3
    return {
        "p50": float(np.percentile(us, 50)),
        "p99": float(np.percentile(us, 99)),
        "mean": float(us.mean()),
        "min": float(us.min()),
        "max": float(us.max()),
        "count": len(us),
    }


def _throughput_figures(size, burst, seconds, dropped):
    rates = [burst / s for s in seconds]
    return {
        "msgs_per_s": float(np.median(rates)),
        "mb_per_s": float(np.median(rates)) * size / 1e6,
        "rounds_msgs_per_s": rates,
        "sent": burst * len(seconds),
        "received": burst * len(seconds),
        "dropped": dropped,
    }


def measure(size, settings, workdir):
    """Latency and throughput figures of both transports at `size` bytes, by transport."""
    burst = settings.burst_for(size)
    # Every message of the session, not just one burst: a ZeroMQ pipe learns that its reader
    # has caught up only every HWM/2 messages, so a burst after the paced messages meets a
    # queue that looks fuller than it is. Late probes take at most the last 1000 places.
    queue = settings.rounds * (settings.warmup + settings.block + burst) + 1000
    session = Session(size, workdir, queue)
    latency = {kind: [] for kind in KINDS}
    seconds = {kind: [] for kind in BURST_KINDS}
    try:
        session.handshake()
        for turn in range(settings.rounds):
            for kind in KINDS if turn % 2 == 0 else KINDS[::-1]:
                samples = session.latency_ns(kind, settings.warmup + settings.block)
                latency[kind].extend(samples[settings.warmup :])
        for turn in range(settings.rounds):
            for kind in BURST_KINDS if turn % 2 == 0 else BURST_KINDS[::-1]:
                seconds[kind].append(session.burst_s(kind, burst))
        dropped = {kind: r.dropped for kind, r in session.receivers.items()}
    finally:
        session.close()
    for kind in KINDS:
        if dropped[kind]:
            raise RuntimeError(f"{kind} dropped {dropped[kind]} messages; raise its queue")
    return {
        kind: {
            "latency_us": _latency_figures(latency[kind]),
            "throughput": _throughput_figures(size, burst, seconds[kind], dropped[kind])
            if kind in seconds
            else None,
        }
        for kind in KINDS
    }


def memcpy(size, samples=50):
    """What np.copyto of `size` bytes costs here (median of `samples` timed batches)."""
    src = np.full(size, 7, np.uint8)
    dst = np.empty_like(src)
    batch = max(1, (1 << 20) // size)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(batch):
            np.copyto(dst, src)
        times.append((time.perf_counter() - start) / batch)
    p50 = float(np.median(times))
    return {"p50_us": p50 * 1e6, "gb_per_s": size / p50 / 1e9, "count": samples * batch}


def target(size):
    """The issue's target for `size`: nanobot/raw bounds, or None where it sets none."""
    if size >= FRAME_BYTES:
        return {"latency_p50_max": 1.1, "throughput_min": 0.9}
    if size <= 64:
        return {"latency_p50_max": 2.0, "throughput_min": 0.5}
    return None


def compare(size, settings, workdir, progress):
    """Every figure for one payload size."""
    result = {"size": size, "shape": list(payload_shape(size))}
    result["memcpy"] = memcpy(size, 10 if settings.count < 100 else 50)
    progress(f"{size} bytes ...")
    result.update(measure(size, settings, workdir))
    raw, nb, local = result["raw"], result["nanobot"], result["local"]
    ratios = {
        "latency_p50": nb["latency_us"]["p50"] / raw["latency_us"]["p50"],
        "latency_p50_local": local["latency_us"]["p50"] / raw["latency_us"]["p50"],
        "throughput": nb["throughput"]["msgs_per_s"] / raw["throughput"]["msgs_per_s"],
    }
    result["ratios"] = ratios
    result["target"] = goal = target(size)
    # Frames are judged on the way a frame input gets them by default (the local channel);
    # every message of a keep_all input on throughput.
    latency = ratios["latency_p50_local" if size >= FRAME_BYTES else "latency_p50"]
    result["meets_target"] = goal and (
        latency <= goal["latency_p50_max"] and ratios["throughput"] >= goal["throughput_min"]
    )
    return result


# ------------------------------------------------------------------ the report


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_times():
    """The host's CPU time counters (/proc/stat, all CPUs), or None where there are none."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    return [int(v) for v in fields[1:]] if fields and fields[0] == "cpu" else None


def steal_percent(before, after):
    """Of the CPU time between two cpu_times(), the percentage the hypervisor gave to other
    guests (steal): time a virtual machine's benchmark waited without being told. None where
    unknown."""
    if not before or not after or len(before) < 8 or len(after) < 8:
        return None
    total = sum(after[:8]) - sum(before[:8])
    return round(100.0 * (after[7] - before[7]) / total, 1) if total > 0 else None


def machine():
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyzmq": zmq.__version__,
        "libzmq": zmq.zmq_version(),
        "numpy": np.__version__,
        "msgpack": ".".join(map(str, msgpack.version)),
        "load_average": list(os.getloadavg()),
    }


def run(sizes, settings, progress=lambda line: None):
    """The whole benchmark as a JSON-ready dict."""
    report = {
        "benchmark": "nanobot transport vs raw pyzmq, ipc://, two processes",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "settings": {
            "latency_count": settings.rounds * settings.block,
            "warmup_per_round": settings.warmup,
            "burst": settings.burst,
            "rounds": settings.rounds,
            "max_burst_bytes": settings.max_burst_bytes,
            "pacing": "lock-step: the next message is sent when the last one is acknowledged",
            "turns": "the transports alternate, block by block of paced messages, burst by burst",
            "clock": "CLOCK_MONOTONIC (time.monotonic), shared by both processes",
        },
        "results": [],
    }
    workdir = tempfile.mkdtemp(prefix="nanobot-bench-")
    try:
        for size in sizes:
            report["results"].append(compare(size, settings, workdir, progress))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def format_table(report):
    m = report["machine"]
    lines = [
        f"nanobot transport vs raw pyzmq, {report['date']}",
        f"{m['cpu']}, {m['cores']} cores; Python {m['python']}; pyzmq {m['pyzmq']} "
        f"(libzmq {m['libzmq']}); numpy {m['numpy']}",
        "",
        f"{'payload':>10} {'memcpy':>8} | {'latency p50 us (ratio to raw)':<42} | "
        f"{'latency p99 us':<26} | {'throughput msg/s':<28} | target",
        f"{'bytes':>10} {'us':>8} | {'raw':>8} {'nanobot':>16} {'local':>16} | {'raw':>8} "
        f"{'nanobot':>8} {'local':>8} | {'raw':>9} {'nanobot':>9} {'ratio':>8} |",
    ]
    for r in report["results"]:
        raw, nb, local = r["raw"], r["nanobot"], r["local"]
        verdict = {None: "-", True: "met", False: "MISSED"}[r["meets_target"]]
        p50 = "%8.1f (%5.2f)"
        thr_raw, thr_nb = raw["throughput"]["msgs_per_s"], nb["throughput"]["msgs_per_s"]
        lines.append(
            f"{r['size']:>10} {r['memcpy']['p50_us']:>8.1f} | {raw['latency_us']['p50']:>8.1f} "
            + p50 % (nb["latency_us"]["p50"], r["ratios"]["latency_p50"])
            + " "
            + p50 % (local["latency_us"]["p50"], r["ratios"]["latency_p50_local"])
            + f" | {raw['latency_us']['p99']:>8.1f} {nb['latency_us']['p99']:>8.1f} "
            f"{local['latency_us']['p99']:>8.1f} | {thr_raw:>9.0f} {thr_nb:>9.0f} "
            f"{r['ratios']['throughput']:>8.2f} | {verdict}"
        )
    lines.append(
        "nanobot: a keep_all input, arrays over the socket; local: a keep_last=1 input on the "
        "publisher's host (a camera input's default), arrays of 16 KiB and more in shared memory"
    )
    return "\n".join(lines)


def _sizes(text):
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("give payload sizes in bytes, e.g. 64,921600")
    return sizes


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.transport",
        description="One-way latency and throughput of nanobot's Publisher/Subscriber against "
        "raw pyzmq PUB/SUB between two processes over ipc://, with numpy memcpy for scale.",
    )
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--quick", action="store_true", help="few messages: a smoke run")
    parser.add_argument(
        "--sizes", type=_sizes, default=list(SIZES), help="payload bytes, comma-separated"
    )
    parser.add_argument(
        "--count",
        type=int,
        help="paced messages per transport for latency (default 1000, 30 with --quick), in 10 "
        "blocks (2 with --quick); throughput is the median of as many bursts of 2x that (5x "
        "with --quick), each at most 512 MiB of payload (32 MiB with --quick)",
    )
    args = parser.parse_args(argv)
    count = args.count or (30 if args.quick else 1000)
    if count < 1:
        parser.error("--count must be at least 1")
    settings = Settings.make(count, args.quick)

    def progress(line):
        print(line, file=sys.stderr, flush=True)

    try:
        report = run(args.sizes, settings, progress)
    except RuntimeError as e:
        print(f"benchmarks.transport: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
