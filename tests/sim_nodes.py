"""Small, deterministic nodes for the executor tests.

They use nothing but the Node API, so the same classes run under the simulation executor and
the process executor. Nodes derived from Traced note what happens to them in `journal`, a list
a test may share among nodes (`node.journal = shared`) to see the order across the graph.
"""

import threading

import numpy as np

from nanobot.msgs import Heartbeat, Message, array
from nanobot.node import HEARTBEAT_TOPIC, Input, Node, Output, Param


class Tick(Message, type_name="nanobot_tests/Tick"):
    """The n-th tick of `sender`, with `noise` samples drawn from the sender's rng."""

    n: int = 0
    sender: str = ""
    noise: np.ndarray = array("float64", (0,))


class Positive(Message, type_name="nanobot_tests/Positive"):
    """A number that must not be negative: constructing one with a negative value fails."""

    value: int = 0

    def __post_init__(self):
        if self.value < 0:
            raise ValueError(f"Positive.value must be >= 0, not {self.value}")


class Traced(Node):
    """A node that notes (node name, what, virtual time in ns) in its journal."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.journal = []

    def note(self, *what):
        self.journal.append((self.name, *what, self.now_ns()))


class Ticker(Traced):
    """Publishes Tick n=1, 2, ... every `period` s; stops after `count` ticks (0: never)."""

    tick = Output(Tick, shared=True)
    period = Param(0.1, min=0.001)
    count = Param(0, min=0)
    noise = Param(0, min=0, help="samples of self.rng.normal() in each tick")

    def setup(self):
        self.n = 0
        self.timer = self.every(self.period, self.fire)

    def fire(self):
        self.n += 1
        noise = self.rng.normal(size=self.noise)
        self.tick.publish(Tick(n=self.n, sender=self.name, noise=noise))
        if self.count and self.n >= self.count:
            self.timer.cancel()


class Recorder(Traced):
    """Notes every Tick delivered: (name, sender, n, time); keeps the messages in `got`."""

    tick = Input(Tick)  # keep_all

    def setup(self):
        self.got = []

    def on_tick(self, msg):
        self.got.append(msg)
        self.note(msg.sender, msg.n)


class NewestRecorder(Recorder):
    tick = Input(Tick, keep_last=1)


class NewestTwoRecorder(Recorder):
    tick = Input(Tick, keep_last=2)


class Relay(Node):
    """Republishes every Tick it receives on `relayed`."""

    tick = Input(Tick)
    relayed = Output(Tick)

    def on_tick(self, msg):
        self.relayed.publish(msg)


class TimerProbe(Traced):
    """Notes the times its timers fire: every(`period`) and once after(`delay`)."""

    period = Param(0.1, min=0.001)
    delay = Param(0.25, min=0.0)

    def setup(self):
        self.every(self.period, lambda: self.note("every"))
        self.after(self.delay, lambda: self.note("after"))


class Deferrer(Traced):
    """At `at` s, notes 'timer', then queues call_soon_threadsafe and after(0) callbacks."""

    at = Param(0.1, min=0.0)

    def setup(self):
        self.after(self.at, self.fire)

    def fire(self):
        self.note("timer")
        self.after(0, lambda: self.note("after0"))
        self.call_soon_threadsafe(self.note, "soon")


class ForeignThread(Traced):
    """Starts a thread in setup() that calls call_soon_threadsafe once, like a GPIO callback."""

    def setup(self):
        self.thread = threading.Thread(
            target=self.call_soon_threadsafe, args=(self.note, "external")
        )
        self.thread.start()

    def teardown(self):
        self.thread.join()


class Stopper(Node):
    """Requests graph shutdown `delay` s after the start."""

    delay = Param(1.0, min=0.0)

    def setup(self):
        self.after(self.delay, lambda: self.request_shutdown("done"))


class Lifecycle(Traced):
    """Notes setup and teardown; `fail` makes setup() raise, `interrupt_at` (s, 0: never) raises
    KeyboardInterrupt from a timer, as Ctrl-C would."""

    fail = Param(False)
    interrupt_at = Param(0.0, min=0.0)

    def setup(self):
        self.note("setup")
        if self.fail:
            raise RuntimeError("no such device")
        if self.interrupt_at:
            self.after(self.interrupt_at, self.interrupt)

    def interrupt(self):
        raise KeyboardInterrupt

    def teardown(self):
        self.note("teardown")


class Faulty(Node):
    """Raises ValueError from a timer every `period` s (a bug in a callback)."""

    period = Param(0.1, min=0.001)

    def setup(self):
        self.every(self.period, self.fail)

    def fail(self):
        raise ValueError("bug in a callback")


class PositivePublisher(Node):
    """At 0.1 s publishes a Positive made negative after construction (the receiver's
    __post_init__ rejects it), at 0.2 s a valid one."""

    positive = Output(Positive)

    def setup(self):
        self.after(0.1, self.publish_bad)
        self.after(0.2, lambda: self.positive.publish(Positive(value=2)))

    def publish_bad(self):
        msg = Positive(value=1)
        msg.value = -1
        self.positive.publish(msg)


class PositiveSink(Node):
    """Keeps the values of the Positive messages delivered."""

    positive = Input(Positive)

    def setup(self):
        self.values = []

    def on_positive(self, msg):
        self.values.append(msg.value)


class HeartbeatSink(Node):
    """Subscribes to every node's heartbeats; keeps them in `got`."""

    heartbeat = Input(Heartbeat, topic=HEARTBEAT_TOPIC)

    def setup(self):
        self.got = []

    def on_heartbeat(self, msg):
        self.got.append(msg)
