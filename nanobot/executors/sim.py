"""The simulation executor: every node of a graph in one process, on one thread, in virtual time.

    from nanobot.executors.sim import SimExecutor
    from nanobot.graph import load

    result = SimExecutor(load("nanobot/graphs/demo.yaml"), record=["report"]).run(until=60)
    print(result)                                 # 60 s of virtual time, and how fast it ran
    reports = result.published("report")          # the monitor's reports, with their stamps

(Recorded messages keep their arrays alive: record the topics you need, not every frame.)

One event heap orders everything that happens: timer firings, message deliveries and calls
made with call_soon_threadsafe, by (virtual time, scheduling order), never by hash or dict
order. The clock jumps from one event to the next, and callbacks take no virtual time, so a
run goes as fast as the work allows (or paced to the wall clock with `realtime=True`).

Messages travel as on the board: a publish encodes the message with the codec (arrays made
read-only, as transport.Publisher does), and `latency` seconds later every subscribing input,
in graph order, decodes it against the type it expects. A message that does not decode is
counted and logged by that input and dropped, exactly as a ZeroMQ subscriber would.

Queue policies. Since callbacks take no time, an input never falls behind, so every message
is delivered, except in one case: the messages due at one input at the same virtual instant
are queued together and then dispatched, so a keep_last=N input gets only the newest N of
them (the rest counted as dropped, as a draining subscriber would), and a keep_all=N input
gets them all, in order, up to N.

Determinism: the same graph, seed and latency give the same message stream, bit for bit, on
every topic but nanobot/heartbeat (heartbeats carry the process id and callback times measured
on the wall clock). Each node's rng is seeded from the seed and the node's name.
"""

import collections
import heapq
import itertools
import logging
import threading
import time

from .. import codec
from ..clock import VirtualClock
from ..node import HEARTBEAT_TOPIC, Timer
from ..runtime import HEARTBEAT_PERIOD, Runtime
from ..transport import Inbox, encode_frozen

__all__ = ["Publication", "SimError", "SimExecutor", "SimResult", "SimRuntime"]

log = logging.getLogger("nanobot.sim")


class SimError(RuntimeError):
    """A simulation that cannot go on: a node's setup() failed, or the run has ended."""


class Publication:
    """One message as published in a simulation: when, where, by whom, and its wire frames.

    `time_ns` is the virtual time of the publish, `stamp` the stamp it carries (ns), `frames`
    the encoded frames (topic, header, arrays) that every subscriber decodes.
    """

    __slots__ = ("frames", "seq", "source", "stamp", "time_ns", "topic")

    def __init__(self, time_ns, topic, source, seq, stamp, frames):
        self.time_ns = time_ns
        self.topic = topic
        self.source = source
        self.seq = seq
        self.stamp = stamp
        self.frames = frames

    def message(self):
        """The message decoded from the frames, as a subscriber would see it."""
        return codec.decode(self.frames)[1]

    def wire(self):
        """The frames as bytes: what went on the wire, for comparing runs bit for bit."""
        return [f if isinstance(f, bytes) else f.tobytes() for f in self.frames]

    def __repr__(self):
        when = self.time_ns / 1e9
        return f"<Publication {self.topic} seq {self.seq} from {self.source} at {when:.6f} s>"


class SimResult:
    """How a run ended: `reason`, virtual `time` (s) reached, `events` run, `wall` seconds
    taken, and the `records` (Publications) kept when the executor was asked to record."""

    def __init__(self, reason, time_s, events, wall, records):
        self.reason = reason
        self.time = time_s
        self.events = events
        self.wall = wall
        self.records = records

    @property
    def speedup(self):
        """Virtual seconds simulated per wall-clock second."""
        return self.time / self.wall if self.wall > 0 else float("inf")

    def published(self, topic):
        """The recorded Publications on `topic`, in publishing order."""
        return [r for r in self.records if r.topic == topic]

    def __repr__(self):
        return (
            f"<SimResult {self.time:.3f} s virtual in {self.wall:.3f} s wall "
            f"(x{self.speedup:.1f}), {self.events} events: {self.reason}>"
        )


class SimRuntime(Runtime):
    """One node's runtime in a simulation: timers and publishes go through the executor."""

    def __init__(self, node, executor):
        super().__init__(node, executor.clock)
        self.executor = executor
        self.inboxes = collections.OrderedDict()
        for name in node.inputs:
            port = node._ports[name]
            label = f"{node.name}.{name}"
            self.inboxes[name] = Inbox(port.topic, port.msg_type, port.policy, label)
        self._heartbeat_seq = itertools.count()
        for name in node.outputs:
            node._ports[name]._send = self._send

    def add_timer(self, period_s, callback, repeat):
        return self.executor._add_timer(self, period_s, callback, repeat)

    def call_soon_threadsafe(self, fn, *args):
        self.executor._call_soon(self, fn, args)

    def request_shutdown(self, reason):
        super().request_shutdown(reason)
        self.executor.stop(f"node {self.node.name!r} requested shutdown: {self.shutdown_reason}")

    def _send(self, port, msg, stamp):
        args = (port.topic, msg, port.sent, stamp, self.node.name)
        if threading.current_thread() is self.executor._sim_thread:
            self.executor._publish(*args)
        else:  # from a hardware thread, say: publish at the simulation's next turn
            self.call_soon_threadsafe(self.executor._publish, *args)

    def publish_heartbeat(self):
        stats = {name: inbox.stats() for name, inbox in self.inboxes.items()}
        seq = next(self._heartbeat_seq)
        hb = self.heartbeat(stats)
        self.executor._publish(HEARTBEAT_TOPIC, hb, seq, self.clock.now_ns(), self.node.name)


class SimExecutor:
    """Runs `graph` (a nanobot.graph.Graph) in virtual time; see the module docstring.

    seed        seeds every node's rng (default: the graph's seed)
    latency     seconds between a publish and its delivery to each subscriber
    record      True to keep every Publication in SimResult.records, or a list of topics
    realtime    pace virtual time to the wall clock: True, or a speed factor (2.0 = twice as
                fast as real time); for watching a run, never needed in tests
    heartbeat_period  seconds of virtual time between each node's heartbeats

    `nodes` maps node name -> node instance (created at once, so a test can look inside, or
    hand them objects, before and between steps). run() starts the nodes, runs and tears them
    down; step() and run_until() advance an open simulation that close() (or a `with` block)
    tears down.
    """

    def __init__(self, graph, seed=None, latency=0.0, record=False, realtime=False,
                 heartbeat_period=HEARTBEAT_PERIOD):  # fmt: skip
        if latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, not {latency!r}")
        speed = 1.0 if realtime is True else float(realtime or 0)
        if speed < 0 or speed != speed:
            raise ValueError(
                f"realtime must be True, False or a speed factor > 0, not {realtime!r}"
            )
        self.graph = graph.check()
        self.seed = graph.seed if seed is None else seed
        self.latency_ns = round(latency * 1e9)
        self.speed = speed
        self.clock = VirtualClock()
        self.records = []
        self.events = 0
        self.stop_reason = None
        self._record = record if isinstance(record, bool) else frozenset(record)
        self._heap = []
        self._order = itertools.count()
        self._work = 0  # events in the heap other than heartbeats
        self._taps = collections.defaultdict(list)
        self._external = collections.deque()
        self._wakeup = threading.Event()
        self._sim_thread = threading.current_thread()
        self._started = []  # runtimes whose setup() was called, in order
        self._pace_from = (0.0, 0)  # (wall monotonic s, virtual ns) that realtime pacing aligns
        self._state = "new"
        self._wall = 0.0
        self.nodes = collections.OrderedDict()
        self.runtimes = collections.OrderedDict()
        for name, spec in graph.nodes.items():
            node = spec.create(self.seed)
            self.nodes[name] = node
            self.runtimes[name] = SimRuntime(node, self)
        self._routes = collections.defaultdict(list)  # topic -> [(runtime, input name)]
        for runtime in self.runtimes.values():
            for name, inbox in runtime.inboxes.items():
                self._routes[inbox.topic].append((runtime, name))
        self._heartbeat_period = heartbeat_period

    # ---- observing

    def tap(self, topic, callback):
        """Call `callback(publication)` for every message published on `topic` from now on.

        The tap runs inside the publish, so an exception in it counts as an error of the
        publishing node's callback: collect what you need and assert after the run."""
        self._taps[topic].append(callback)

    @property
    def now(self):
        """Virtual time in seconds."""
        return self.clock.now()

    # ---- running

    def run(self, until=None, max_events=None):
        """Start the nodes, run until `until` seconds of virtual time (inclusive), a node's
        request_shutdown(), `max_events` events, or (with no `until`) until no node has
        anything left to do; tear the nodes down and return a SimResult."""
        try:
            n = self.run_until(until, max_events)
            if self.stop_reason is None:
                if max_events is not None and n >= max_events:
                    self.stop(f"ran max_events={max_events} events")
                else:
                    self.stop(f"reached {until:g} s of virtual time")
        finally:
            self.close()
        return self.result()

    def run_until(self, until=None, max_events=None):
        """Advance an open simulation like run(), without tearing it down; returns the number
        of events run. Events due exactly at `until` run; the clock then stands at `until`."""
        self._start()
        until_ns = None if until is None else round(until * 1e9)
        if until_ns is not None and until_ns < self.clock.now_ns():
            raise ValueError(
                f"cannot run until {until} s: the simulation is already at {self.now} s"
            )
        wall0, n = time.perf_counter(), 0
        self._pace_from = (time.monotonic(), self.clock.now_ns())
        try:
            # the loop also ends when a node requests shutdown: stop() sets stop_reason
            while self.stop_reason is None and (max_events is None or n < max_events):
                self._take_external()
                if until_ns is None and not self._work:
                    self.stop("idle: no node has anything left to do")
                    break
                if not self._heap or (until_ns is not None and self._heap[0][0] > until_ns):
                    if until_ns is not None and self._pace(until_ns):
                        self.clock.advance_to(until_ns)
                        break
                    continue
                if self._run_next():
                    n += 1
        finally:
            self._wall += time.perf_counter() - wall0
        return n

    def step(self):
        """Run the next event (starting the nodes first if needed); False if there is none
        or the run has stopped."""
        self._start()
        wall0 = time.perf_counter()
        self._pace_from = (time.monotonic(), self.clock.now_ns())
        try:
            while self.stop_reason is None:
                self._take_external()
                if not self._heap:
                    return False
                if self._run_next():
                    return True
            return False
        finally:
            self._wall += time.perf_counter() - wall0

    def close(self):
        """Tear down every node whose setup() was called, in reverse order; the run ends."""
        if self._state == "closed":
            return
        self._state = "closed"
        if self.stop_reason is None:
            self.stop("closed")
        while self._started:
            runtime = self._started.pop()
            try:
                runtime.node.teardown()
            except Exception:
                runtime.node.log.exception("error in teardown")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def stop(self, reason):
        """End the run after the current event; `reason` goes into the SimResult."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self._wakeup.set()

    def result(self):
        """A SimResult for the run so far."""
        reason = self.stop_reason or "running"
        return SimResult(reason, self.now, self.events, self._wall, self.records)

    # ---- services for the runtimes

    def _add_timer(self, runtime, period_s, callback, repeat, background=False):
        period_ns = round(period_s * 1e9)
        timer = Timer(period_ns, callback, repeat, self.clock.now_ns() + max(0, period_ns))
        self._schedule(timer.due_ns, self._fire, (runtime, timer, background), background)
        return timer

    def _call_soon(self, runtime, fn, args):
        if threading.current_thread() is self._sim_thread:
            self._schedule(self.clock.now_ns(), runtime.call, (fn, *args))
        else:
            self._external.append((runtime, fn, args))
            self._wakeup.set()

    def _publish(self, topic, msg, seq, stamp, source):
        """Encode `msg` and schedule its delivery to every input subscribed to `topic`."""
        frames = encode_frozen(msg, topic, seq, stamp, source)
        now = self.clock.now_ns()
        routes = self._routes.get(topic)
        if routes:
            self._schedule(now + self.latency_ns, self._deliver, (routes, frames))
        record = self._record is True or (bool(self._record) and topic in self._record)
        taps = self._taps.get(topic, ())
        if record or taps:
            pub = Publication(now, topic, source, seq, stamp, frames)
            if record:
                self.records.append(pub)
            for tap in taps:
                tap(pub)

    # ---- the event loop

    def _start(self):
        if self._state == "closed":
            raise SimError("this simulation has ended; create a new SimExecutor to run again")
        if self._state == "started":
            return
        self._state = "started"
        self._sim_thread = threading.current_thread()
        for name, runtime in self.runtimes.items():
            self._add_timer(runtime, self._heartbeat_period, runtime.publish_heartbeat, True, True)
            self._started.append(runtime)
            try:
                runtime.node.setup()
            except Exception as e:
                self.stop(f"node {name!r} failed in setup()")
                self.close()
                where = self.graph.nodes[name].class_path
                raise SimError(
                    f"node {name!r} ({where}) failed in setup(): {type(e).__name__}: {e}; "
                    "the simulation did not start"
                ) from e

    def _schedule(self, t_ns, fn, args, background=False):
        heapq.heappush(self._heap, (t_ns, next(self._order), background, fn, args))
        if not background:
            self._work += 1

    def _run_next(self):
        """Run the event at the head of the heap; False if none ran (it was a cancelled
        timer, dropped without moving the clock, or a call from another thread came first)."""
        t_ns, _, background, fn, args = self._heap[0]
        cancelled = fn == self._fire and args[1].cancelled
        if not cancelled and not self._pace(t_ns):
            return False
        heapq.heappop(self._heap)
        if not background:
            self._work -= 1
        if cancelled:
            return False
        self.clock.advance_to(t_ns)
        fn(*args)
        self.events += 1
        return True

    def _take_external(self):
        while self._external:
            runtime, fn, args = self._external.popleft()
            self._schedule(self.clock.now_ns(), runtime.call, (fn, *args))

    def _pace(self, t_ns):
        """In realtime mode, wait until the wall clock reaches virtual time `t_ns`; False if a
        call from another thread came first (the clock then stands at the wall-paced time)."""
        if not self.speed:
            return True
        wall0, virtual0 = self._pace_from
        while True:
            wait = wall0 + (t_ns - virtual0) / 1e9 / self.speed - time.monotonic()
            if wait <= 0:
                return True
            self._wakeup.clear()
            if self._external or self.stop_reason is not None or self._wakeup.wait(wait):
                if self.stop_reason is not None:
                    return False
                paced = virtual0 + int((time.monotonic() - wall0) * self.speed * 1e9)
                self.clock.advance_to(max(self.clock.now_ns(), min(t_ns, paced)))
                return False

    def _fire(self, runtime, timer, background):
        if timer.repeat:
            timer.due_ns += timer.period_ns
            self._schedule(timer.due_ns, self._fire, (runtime, timer, background), background)
        if background:
            timer.callback()
        else:
            runtime.call(timer.callback)

    def _deliver(self, routes, frames):
        now = self.clock.now_ns()
        for runtime, name in routes:
            inbox = runtime.inboxes[name]
            if not inbox.depth:  # the first message due at this instant: dispatch after the rest
                self._schedule(now, self._dispatch, (runtime, name))
            inbox.put(frames)

    def _dispatch(self, runtime, name):
        inbox = runtime.inboxes[name]
        port = runtime.node._ports[name]
        while inbox.depth:
            msg = inbox.take()
            if msg is not None:
                runtime.deliver(port, msg)
