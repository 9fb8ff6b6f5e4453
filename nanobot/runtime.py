"""What runs a node: its timers, callbacks, heartbeat, and (on the board) its thread and sockets.

Runtime holds what both executors share; NodeThread is the process executor's: one thread
per node, its own ZeroMQ sockets, a poll loop that drains inputs, delivers messages one at a
time, fires timers on the wall clock and publishes a heartbeat.
"""

import collections
import heapq
import itertools
import os
import select
import threading
import time

import zmq

from . import msgs
from .clock import WallClock
from .node import HEARTBEAT_TOPIC, Stats, Timer
from .transport import Publisher, Subscriber, poll

HEARTBEAT_PERIOD = 1.0
MS = 1000000  # ns


class Runtime:
    """Timers, callback dispatch and health figures for one node, on any clock."""

    def __init__(self, node, clock):
        self.node = node
        self.clock = clock
        self.stats = Stats()
        self.started_ns = clock.now_ns()
        self.shutdown_reason = None
        self._timers = []
        self._timer_seq = itertools.count()
        node._runtime = self

    # -- timers

    def add_timer(self, period_s, callback, repeat):
        period_ns = round(period_s * 1e9)
        timer = Timer(period_ns, callback, repeat, self.clock.now_ns() + period_ns)
        heapq.heappush(self._timers, (timer.due_ns, next(self._timer_seq), timer))
        self.timers_changed()
        return timer

    def timers_changed(self):
        """Hook: a new timer may be due earlier than the runtime is waiting for."""

    def next_due_ns(self):
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0][0] if self._timers else None

    def fire_due_timers(self, now_ns):
        while self._timers and self._timers[0][0] <= now_ns:
            due, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            if timer.repeat:
                # Keep the phase; skip missed periods rather than firing a burst.
                timer.due_ns = due + timer.period_ns * max(1, (now_ns - due) // timer.period_ns + 1)
                heapq.heappush(self._timers, (timer.due_ns, next(self._timer_seq), timer))
            self.call(timer.callback)

    # -- callbacks

    def call(self, fn, *args):
        """Run one callback, timing it; an exception is logged and counted, not raised."""
        t0 = time.perf_counter()
        try:
            fn(*args)
        except Exception:
            self.stats.errors += 1
            self.node.log.exception("error in %s", getattr(fn, "__name__", fn))
        finally:
            self.stats.add(time.perf_counter() - t0)

    def deliver(self, bound_input, msg):
        bound_input.latest = msg
        bound_input.received += 1
        if bound_input.callback is not None:
            self.call(bound_input.callback, msg)

    def request_shutdown(self, reason):
        self.shutdown_reason = reason or "requested by node %s" % self.node.name

    # -- health

    def heartbeat(self, input_stats):
        """A Heartbeat for this node; `input_stats` maps input name -> dict of counters."""
        node = self.node
        s = self.stats
        return msgs.Heartbeat(
            node=node.name,
            node_class="%s:%s" % (type(node).__module__, type(node).__name__),
            pid=os.getpid(),
            uptime=(self.clock.now_ns() - self.started_ns) / 1e9,
            state="running",
            inputs=input_stats,
            outputs={
                n: {"topic": node._ports[n].topic, "sent": node._ports[n].sent}
                for n in node.outputs
            },
            callbacks=s.callbacks,
            callback_ms_mean=1e3 * s.total_s / s.callbacks if s.callbacks else 0.0,
            callback_ms_max=1e3 * s.max_s,
            errors=s.errors,
        )


class NodeThread(Runtime):
    """Runs one node on its own thread with real sockets (the process executor's runtime).

    The thread owns the node's sockets and waits on them, on its wake-up pipe (calls from
    other threads, stop) and on its next timer at once. Each round it moves every message
    waiting on its SUB sockets into the inputs' queues before delivering one per input, so
    a keep_last=1 input hands the next callback the newest frame, not the one that arrived
    first: during a callback ZeroMQ's I/O thread keeps reading into the socket's own queue,
    which for keep_last inputs is deep enough (transport.Subscriber) for that not to drop.

    `plan` maps each port name to its endpoints (bind for outputs, connect for inputs) and
    may hold "nanobot/heartbeat" for the heartbeat's bind endpoints.
    """

    def __init__(self, node, plan, context=None, clock=None, heartbeat_period=HEARTBEAT_PERIOD):
        super().__init__(node, clock or WallClock())
        self.plan = plan
        self.context = context or zmq.Context.instance()
        self.heartbeat_period = heartbeat_period
        self.error = None
        self.attention = None  # an Event to set when the node asks to stop or its loop ends
        self.subs = []  # [(BoundInput, Subscriber)], created on the node's thread
        self.ready = threading.Event()
        self.done = threading.Event()
        self._stopping = False
        self._calls = collections.deque()
        self._wake_r, self._wake_w = os.pipe()
        self._wake_pending = False
        self._pipe_lock = threading.Lock()  # no write to the pipe once it is closed
        self._thread = threading.Thread(target=self._main, name="node-" + node.name, daemon=True)

    def start(self, timeout=30.0):
        """Start the thread and wait until setup() has run; re-raises its error."""
        self._thread.start()
        if not self.ready.wait(timeout):
            raise TimeoutError(
                "node %r did not finish setup() in %.0f s" % (self.node.name, timeout)
            )
        if self.error is not None:
            raise self.error

    def stop(self, timeout=10.0):
        """Stop the loop, run teardown() and close sockets; True if it finished in time."""
        self._stopping = True
        self._wake()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def call_soon_threadsafe(self, fn, *args):
        self._calls.append((fn, args))
        self._wake()

    def timers_changed(self):
        if threading.current_thread() is not self._thread:
            self._wake()

    def request_shutdown(self, reason):
        super().request_shutdown(reason)
        self._wake()
        if self.attention is not None:
            self.attention.set()

    def _wake(self):
        if self._wake_pending:
            return  # the node thread has a wake-up coming; it clears the flag after reading
        self._wake_pending = True
        with self._pipe_lock:
            if self._wake_w is not None:
                os.write(self._wake_w, b"x")

    # -- the node's thread

    def _main(self):
        node = self.node
        pubs = []
        try:
            for name in node.outputs:
                port = node._ports[name]
                spec = port.spec
                endpoints = self.plan.get(name, ())
                pub = Publisher(
                    self.context, port.topic, endpoints, node.name, spec.hwm, spec.slots
                )
                pubs.append(pub)
                port._send = self._sender(pub)
            for name in node.inputs:
                port = node._ports[name]
                sub = Subscriber(
                    self.context,
                    port.topic,
                    self.plan.get(name, ()),
                    port.msg_type,
                    port.policy,
                    name="%s.%s" % (node.name, name),
                )
                self.subs.append((port, sub))
            hb_endpoints = self.plan.get(HEARTBEAT_TOPIC, ())
            if hb_endpoints:
                hb = Publisher(self.context, HEARTBEAT_TOPIC, hb_endpoints, node.name, 10)
                pubs.append(hb)
                self.add_timer(
                    self.heartbeat_period,
                    lambda: hb.publish(self.heartbeat(self.input_stats()), self.clock.now_ns()),
                    repeat=True,
                )
            node.setup()
        except Exception as e:
            self.error = e
        self.ready.set()
        try:
            if self.error is None:
                self._loop()
        except Exception as e:  # a bug in the loop itself: report, then clean up
            self.error = e
            node.log.exception("node loop failed")
        finally:
            try:
                node.teardown()
            except Exception:
                node.log.exception("error in teardown")
            for _, sub in self.subs:
                sub.close()
            for p in pubs:
                p.close()
            with self._pipe_lock:
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_w = None
            self.done.set()
            if self.attention is not None:
                self.attention.set()

    def input_stats(self):
        """Each input's counters, by input name (as the heartbeat reports them)."""
        return {port.name: sub.stats() for port, sub in self.subs}

    def _sender(self, pub):
        thread = self._thread

        def send(port, msg, stamp):
            if threading.current_thread() is thread:
                pub.publish(msg, stamp)
            else:
                self.call_soon_threadsafe(pub.publish, msg, stamp)

        return send

    def _loop(self):
        subs = self.subs
        wake_r = self._wake_r
        items = [(wake_r, zmq.POLLIN)] + [(sub.socket, zmq.POLLIN) for _, sub in subs]
        clock = self.clock
        while not self._stopping and self.shutdown_reason is None:
            timeout_ms = 0
            if not any(sub.depth for _, sub in subs):
                due = self.next_due_ns()
                wait_ns = 1000 * MS if due is None else min(1000 * MS, due - clock.now_ns())
                if 0 < wait_ns < MS:
                    # zmq_poll counts whole milliseconds and would return at once: wait out
                    # the rest of this one on the wake-up pipe (a call or stop still wakes
                    # it; a message waits at most this long) instead of spinning, which
                    # cost a 200 Hz timer a fifth of a core.
                    select.select([wake_r], [], [], wait_ns / 1e9)
                elif wait_ns > 0:
                    timeout_ms = wait_ns // MS
            for item, _ in poll(items, timeout_ms):
                if item == wake_r:  # the others are sockets, drained below whatever poll says
                    os.read(wake_r, 4096)
                    # After reading, never before: a wake that lands between the two would
                    # write a byte this read swallows, and leave the flag set with the pipe
                    # empty, so no later wake would write again (the node would then only
                    # wake for its timers). A wake skipped because the flag was still set
                    # is not lost: its calls are queued before it, and the loop looks at the
                    # queue next.
                    self._wake_pending = False
            for _, sub in subs:  # all that waits, before delivering: the queues keep the newest
                sub.drain()
            while self._calls:
                fn, args = self._calls.popleft()
                self.call(fn, *args)
            for port, sub in subs:  # one message per input per round: fair and fresh
                msg = sub.take()
                if msg is not None:
                    self.deliver(port, msg)
            self.fire_due_timers(clock.now_ns())
