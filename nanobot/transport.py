"""ZeroMQ publishers and subscribers for one topic each.

A Publisher owns a PUB socket bound to its endpoints; a Subscriber owns a SUB socket
connected to every publisher of its topic, filtered by the exact topic frame. Neither is
thread-safe: create and use each on one thread (a node's own).

PUB never blocks: when a subscriber falls behind by more than the publisher's high-water
mark, ZeroMQ drops for that subscriber alone. A Subscriber drains its socket on every read
into its Inbox, which keeps what its policy says (newest N, or all up to a bound) and
counts the rest as dropped, so a slow reader never accumulates latency.

Frame inputs (keep_last) whose publishers are all on their host (ipc:// or inproc://
endpoints) also subscribe to the topic's local channel. While every subscriber of a
publisher is such a local one, it sends on the local channel only, where the arrays of
large messages travel through shared-memory slots (nanobot.slots) instead of the socket;
otherwise it sends on the topic, which every subscriber hears. Publishers count
subscriptions on their XPUB socket.
"""

import collections
import logging
import os

import zmq

from . import codec, msgs
from .endpoints import on_this_host
from .slots import DEFAULT_SLOTS, SlotWriter, shm_dir

log = logging.getLogger("nanobot.transport")

# Plain ints: pyzmq's enum flags cost microseconds per operation on the hot path.
_NOBLOCK = int(zmq.NOBLOCK)
_SNDMORE = int(zmq.SNDMORE)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)
# Messages a keep_last input's socket holds while its node runs a callback (Subscriber).
KEEP_LAST_DEPTH = 32
# A local input that reads no slot in this many messages in a row leaves the local channel.
MAX_SLOT_FAILURES = 5


def poll(items, timeout_ms=-1):
    """zmq.Poller().poll() without the Poller: `items` is a list of (socket or fd, events);
    returns [(socket or fd, events)] of those ready, waiting up to `timeout_ms` (-1: for
    ever). The Poller's Python bookkeeping costs more than the poll itself on a hot path."""
    return zmq.zmq_poll(items, timeout_ms)


class QueuePolicy(collections.namedtuple("QueuePolicy", "keep_last keep_all")):
    """How an input buffers: keep_last=N keeps the newest N (older ones are dropped quietly:
    that is the point), keep_all=N keeps every message in order up to N waiting (beyond that
    the oldest are dropped, and a warning says the reader is falling behind)."""

    @classmethod
    def make(cls, keep_last=None, keep_all=None, msg_type=None):
        """The policy asked for; with neither given, the default for `msg_type`: newest
        only for images (never process a stale frame), keep_all=1000 for the rest."""
        if keep_last is not None and keep_all is not None:
            raise ValueError("choose keep_last or keep_all for an input, not both")
        for label, value in (("keep_last", keep_last), ("keep_all", keep_all)):
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError("%s must be an int >= 1, not %r" % (label, value))
        if keep_last is None and keep_all is None:
            newest_only = msg_type is not None and issubclass(msg_type, msgs.Image)
            return cls(1, None) if newest_only else cls(None, 1000)
        return cls(keep_last, keep_all)

    @property
    def size(self):
        return self.keep_last or self.keep_all

    def __str__(self):
        return "keep_last=%d" % self.keep_last if self.keep_last else "keep_all=%d" % self.keep_all


def encode_frozen(msg, topic, seq, stamp, source, writer=None):
    """codec.encode, with the message's arrays made read-only: they leave without a copy
    (ZeroMQ sends from this memory after publish returns; in simulation the receivers read
    it), so the publisher must not change them afterwards. Read-only whichever way they
    travel, so that a node's code does not work or fail by who subscribes."""
    frames = codec.encode(msg, topic, seq, stamp, source, writer)
    for name in type(msg).array_fields:
        getattr(msg, name).setflags(write=False)
    for arr in frames[2:]:
        if type(arr) is not bytes:  # an array sent in a slot has an empty frame
            arr.setflags(write=False)
    return frames


class Publisher:
    """Publishes messages of one topic on an XPUB socket bound to `endpoints`.

    Each message goes out once: on the topic's local channel while all subscribers are local
    (arrays of `slots.MIN_BYTES` or more in a ring of `slots` shared-memory slots; 0 keeps
    every array in frames), else on the topic itself (arrays in frames).
    """

    def __init__(self, context, topic, endpoints, source="", hwm=100, slots=DEFAULT_SLOTS):
        self.topic = topic
        self.source = source
        self.endpoints = list(endpoints)
        self.sent = 0
        self._frames = (codec.topic_frame(topic), codec.topic_frame(topic, local=True))
        self._prefixes = collections.Counter()  # subscriptions per prefix, as reported
        self._inline = self._local = False  # the channel to send on, if any
        self._slots = SlotWriter(topic, slots) if slots else None  # 0: frames on the topic
        self._socket = context.socket(zmq.XPUB)
        self._socket.setsockopt(zmq.XPUB_VERBOSER, 1)  # every (un)subscription, to count them
        self._socket.setsockopt(zmq.SNDHWM, hwm)
        self._socket.setsockopt(zmq.LINGER, 0)
        for ep in self.endpoints:
            try:
                self._socket.bind(ep)
            except zmq.ZMQError as e:
                self._socket.close()
                raise OSError("cannot publish %r at %s: %s" % (topic, ep, e)) from None

    def publish(self, msg, stamp):
        """Send `msg`; its arrays are handed to ZeroMQ without a copy and made read-only."""
        if self._socket.getsockopt(_EVENTS) & _POLLIN:
            self._read_subscriptions()
        seq = self.sent
        self.sent += 1
        if self._local and self._slots is not None:
            self._send(encode_frozen(msg, self.topic, seq, stamp, self.source, self._slots))
            return
        # Encoded even with no subscriber: a message that cannot travel fails here, always.
        frames = encode_frozen(msg, self.topic, seq, stamp, self.source)
        if self._inline or self._local:  # local subscribers hear the topic too
            self._send(frames)

    def _send(self, frames):
        send = self._socket.send
        last = len(frames) - 1
        for i, frame in enumerate(frames):  # send_multipart, minus its per-frame overhead
            send(frame, _SNDMORE if i < last else 0, copy=False)

    def _read_subscriptions(self):
        """Count the (un)subscriptions the XPUB socket reports (b"\x01" or b"\x00" + prefix,
        each one) and choose the channel: local subscribers subscribe to both the topic and
        its local channel, every other subscriber to the topic alone (or a prefix of it)."""
        while True:
            try:
                event = self._socket.recv(_NOBLOCK)
            except zmq.Again:
                break
            if event[:1] == b"\x01":
                self._prefixes[event[1:]] += 1
            elif event[:1] == b"\x00" and self._prefixes[event[1:]] > 0:
                self._prefixes[event[1:]] -= 1
        inline_frame, local_frame = self._frames
        on_topic = sum(n for p, n in self._prefixes.items() if inline_frame.startswith(p))
        on_local = self._prefixes[local_frame]
        self._local = on_local > 0 and on_topic <= on_local
        self._inline = on_topic > on_local

    def close(self):
        """Close the socket and remove its ipc and slot files (ZeroMQ leaves them behind)."""
        self._socket.close()
        if self._slots is not None:
            self._slots.close()
        for ep in self.endpoints:
            if ep.startswith("ipc://"):
                try:
                    os.unlink(ep[len("ipc://") :])
                except OSError:
                    pass


class Inbox:
    """The messages of one input waiting to be taken, kept per `policy`, decoded on take.

    One thread fills and empties it: a Subscriber fills its inbox from a socket, on its
    node's thread; the simulation executor fills one per input directly.

    Counters: received, dropped (evicted by the policy), malformed (by problem kind),
    rejected (messages of the wrong type).
    """

    def __init__(self, topic, msg_type=None, policy=None, name=None):
        self.topic = topic
        self.msg_type = msg_type
        self.name = name or topic
        self.policy = policy or QueuePolicy.make(msg_type=msg_type)
        self.received = 0
        self.dropped = 0
        self.rejected = 0
        self.malformed = collections.Counter()
        self.latest = None
        self.local = False  # subscribed to the topic's local channel (Subscriber)
        self.reads_slots = False  # may take messages with arrays in shared-memory slots
        self._raw = collections.deque(maxlen=self.policy.size)
        self._seen_problems = set()
        self._behind_warned = False

    @property
    def depth(self):
        """Messages waiting in the queue."""
        return len(self._raw)

    def put(self, frames):
        """Queue one received frame list, evicting the oldest when the policy says so."""
        full = len(self._raw) == self._raw.maxlen
        if full:
            self.dropped += 1
        self._raw.append(frames)
        self.received += 1
        if full and self.policy.keep_all and not self._behind_warned:
            self._behind_warned = True
            log.warning(
                "input %r (topic %r) fell %d messages behind and dropped the oldest; "
                "its callback is too slow for the rate, or raise keep_all",
                self.name,
                self.topic,
                self.policy.keep_all,
            )

    def take(self):
        """The next good message in the queue, or None; bad ones are counted and skipped."""
        while self._raw:
            msg = self.accept(self._raw.popleft())
            if msg is not None:
                return msg
        return None

    def accept(self, frames):
        """Decode one received frame list; returns the message or None (counted and logged)."""
        try:
            _, msg = codec.decode(frames, self.msg_type, self.reads_slots)
        except codec.DecodeError as e:
            self.count_bad(e)
            return None
        self.latest = msg
        return msg

    def count_bad(self, err):
        if err.kind == "wrong-type":
            self.rejected += 1
        elif err.kind == "stale":  # its slot was reused, or its publisher closed: too late
            self.dropped += 1
        else:
            self.malformed[err.kind] += 1
        key = (err.kind, err.source)
        if key not in self._seen_problems:  # once per distinct problem and sender
            self._seen_problems.add(key)
            if err.kind == "stale":
                log.info(
                    "input %r (topic %r) took a message after its publisher %s had reused the "
                    "shared-memory slot of its arrays, or closed; it was dropped (counted). If "
                    "this goes on, the input holds more messages than the publisher has "
                    "slots: raise the output's slots or lower the input's keep_last",
                    self.name,
                    self.topic,
                    err.source or "(unknown)",
                )
                return
            log.warning(
                "dropped a %s message on input %r (topic %r, from %s): %s",
                err.kind,
                self.name,
                self.topic,
                err.source or "an unknown sender",
                err,
            )

    def stats(self):
        """The counters as a heartbeat reports them for one input."""
        return {
            "topic": self.topic,
            "received": self.received,
            "depth": self.depth,
            "dropped": self.dropped,
            "malformed": sum(self.malformed.values()),
            "rejected": self.rejected,
        }


class Subscriber(Inbox):
    """Receives one topic from every endpoint given into its Inbox, buffering per `policy`.

    A keep_last input whose endpoints are all ipc:// or inproc:// (its publishers share this
    host) also subscribes to the topic's local channel, where large arrays come through
    shared-memory slots when all of a publisher's subscribers are local; `local=False` (or
    NANOBOT_SHM=0 in the environment) keeps it to the topic. A tcp:// endpoint, or
    MAX_SLOT_FAILURES messages in a row whose slots it cannot read, take it off the local
    channel for good. keep_all inputs stay off it: a slot is reused after a few messages,
    and they want them all.

    A node drains its sockets between callbacks, and ZeroMQ drops the *newest* messages when
    a socket's queue is full, which would hand a keep_last input old frames after a long
    callback. So a keep_last input's socket holds up to KEEP_LAST_DEPTH messages (or twice
    keep_last): a callback may last that many messages' periods and still be handed the
    newest next. (Frames in shared memory cost a small header each while they wait; frames
    in messages cost their size.)

    drain() touches the socket: call it on the thread that created the Subscriber.
    """

    def __init__(
        self, context, topic, endpoints, msg_type=None, policy=None, name=None, local=None
    ):
        super().__init__(topic, msg_type, policy, name)
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        depth = self.policy.size * 2
        if self.policy.keep_last:  # room for what arrives during a long callback: see above
            depth = max(depth, KEEP_LAST_DEPTH)
        self.socket.setsockopt(zmq.RCVHWM, depth)
        if local is None:
            local = os.environ.get("NANOBOT_SHM", "1") != "0"
        self._leave_local = False  # set while taking, acted on by drain()
        self._slot_failures = 0  # unreadable slots in a row, none read since
        if local and self.policy.keep_last and all(on_this_host(ep) for ep in endpoints):
            self.local = self.reads_slots = True
            self.socket.setsockopt(zmq.SUBSCRIBE, codec.topic_frame(topic, local=True))
        self.socket.setsockopt(zmq.SUBSCRIBE, codec.topic_frame(topic))
        self.endpoints = []
        for ep in endpoints:
            self.connect(ep)

    def connect(self, endpoint):
        if endpoint not in self.endpoints:
            if self.local and not on_this_host(endpoint):
                self._use_topic("%s is not on this host" % endpoint)
            self.socket.connect(endpoint)
            self.endpoints.append(endpoint)

    def _use_topic(self, why):
        """Leave the local channel for the topic itself (messages queued stay readable:
        reads_slots stays True)."""
        log.warning(
            "input %r (topic %r) leaves shared memory and takes arrays over the socket: %s",
            self.name,
            self.topic,
            why,
        )
        self.local = False
        self.socket.setsockopt(zmq.UNSUBSCRIBE, codec.topic_frame(self.topic, local=True))

    def accept(self, frames):
        msg = super().accept(frames)
        if msg is not None:
            self._slot_failures = 0
        return msg

    def count_bad(self, err):
        super().count_bad(err)
        if err.kind in ("shm", "stale") and self.local:
            self._slot_failures += 1
            if self._slot_failures >= MAX_SLOT_FAILURES:
                self._leave_local = True  # acted on by the next drain()

    def wait(self, timeout_ms=-1):
        """Block until a message waits on the socket (True) or `timeout_ms` passes (False)."""
        return bool(poll([(self.socket, _POLLIN)], int(timeout_ms)))

    def drain(self):
        """Move every message waiting on the socket into the queue; returns how many."""
        if self._leave_local and self.local:
            self._use_topic(
                "%d frames in a row could not be read from shared memory (does this process "
                "see the publisher's %s?)" % (MAX_SLOT_FAILURES, shm_dir())
            )
        n = 0
        recv = self.socket.recv
        events = self.socket.getsockopt
        # Ask first: a recv that finds nothing raises zmq.Again, which costs ~15 us in pyzmq.
        while events(_EVENTS) & _POLLIN:
            frame = recv(_NOBLOCK, copy=False)
            frames = [frame]
            while frame.more:  # recv_multipart, minus a getsockopt per frame
                frame = recv(_NOBLOCK, copy=False)  # the rest of a message is always there
                frames.append(frame)
            self.put(frames)
            n += 1
        return n

    def close(self):
        self.socket.close()
