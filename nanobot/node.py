"""Nodes: declared inputs, outputs and params, callbacks on the node's own thread.

    from nanobot import Node, Input, Output, Param
    from nanobot.msgs import Image, KeyValue

    class Brightness(Node):
        '''Publishes the mean brightness of every frame.'''

        image = Input(Image)                  # newest frame only (Image inputs default)
        brightness = Output(KeyValue)
        scale = Param(1.0, help="multiplier applied to the mean")

        def on_image(self, msg):              # called for each message on `image`
            value = float(msg.data.mean()) * self.scale
            self.brightness.publish(KeyValue(values={"mean": value}))

An executor (process or simulation) creates the node, binds its ports, calls setup(), then
delivers messages and fires timers one at a time on the node's thread, and calls teardown()
when the graph stops. The same class runs unchanged under either executor.
"""

import collections
import logging
import zlib

import numpy as np

from . import msgs
from .slots import DEFAULT_SLOTS
from .transport import QueuePolicy

__all__ = ["Input", "Node", "Output", "Param", "ParamError"]

HEARTBEAT_TOPIC = "nanobot/heartbeat"


class ParamError(ValueError):
    """A param value that the node does not declare or cannot take."""


class _Port:
    def __init__(self, msg_type, topic=None):
        if not (isinstance(msg_type, type) and issubclass(msg_type, msgs.Message)):
            raise TypeError(
                "%s needs a message class (e.g. nanobot.msgs.Image), not %r"
                % (type(self).__name__, msg_type)
            )
        self.msg_type = msg_type
        self.topic = topic
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name
        if self.topic is None:
            self.topic = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        return node._ports[self.name]


class Input(_Port):
    """A subscribed topic. Messages go to the node's `on_<name>(msg)` method, or to
    `callback` (a method name), one at a time; with neither, read `self.<name>.latest`.

    Queueing: keep_last=N (newest N) or keep_all=N (all, in order, up to N waiting). Image
    inputs default to keep_last=1 (never process a stale frame), others to keep_all=1000.
    """

    def __init__(self, msg_type, topic=None, keep_last=None, keep_all=None, callback=None):
        super().__init__(msg_type, topic)
        self.policy = QueuePolicy.make(keep_last, keep_all, msg_type)
        self.callback = callback


class Output(_Port):
    """A published topic. `shared=True` lets several nodes publish it (e.g. status lines).

    `hwm` bounds how many messages ZeroMQ holds per slow subscriber before dropping for
    that subscriber alone (default: 4 for images, 1000 otherwise). `slots`: how many large
    messages can be in shared memory at once for subscribers on this host (default 8;
    0 sends every array over the socket); see docs/architecture.md.
    """

    def __init__(self, msg_type, topic=None, shared=False, hwm=None, slots=DEFAULT_SLOTS):
        super().__init__(msg_type, topic)
        self.shared = shared
        self.hwm = hwm if hwm is not None else (4 if issubclass(msg_type, msgs.Image) else 1000)
        if slots != 0 and (not isinstance(slots, int) or slots < 2):
            raise ValueError("slots must be 0 (off) or an int >= 2, not %r" % (slots,))
        self.slots = slots


_NO_DEFAULT = object()


class Param:
    """A setting with a default, settable from the graph file or `--set node.name=value`.

    The type comes from the default (an int is accepted where a float is expected);
    `choices` limits the values; `min`/`max` bound numbers.
    """

    def __init__(self, default, type=None, help="", choices=None, min=None, max=None):
        self.default = default
        self.type = type or (builtin_type(default) if default is not None else None)
        self.help = help
        self.choices = choices
        self.min = min
        self.max = max
        self.name = None

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, node, owner=None):
        if node is None:
            return self
        return node._params[self.name]

    def check(self, value, where=""):
        """`value` converted to this param's type; raises ParamError naming the problem."""
        t = self.type
        if value is None and self.default is None:
            return None
        if t is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if t is not None and (not isinstance(value, t) or (t is int and isinstance(value, bool))):
            raise ParamError(
                "param %r%s must be %s, not %r" % (self.name, where, t.__name__, value)
            )
        if self.choices is not None and value not in self.choices:
            raise ParamError(
                "param %r%s must be one of %s, not %r"
                % (self.name, where, ", ".join(map(repr, self.choices)), value)
            )
        if (self.min is not None and value < self.min) or (
            self.max is not None and value > self.max
        ):
            raise ParamError(
                "param %r%s must be within [%s, %s], not %r"
                % (self.name, where, self.min, self.max, value)
            )
        return value


def builtin_type(value):
    for t in (bool, int, float, str, list, dict):
        if isinstance(value, t):
            return t
    return None


class BoundOutput:
    """An output of one node instance: `publish(msg)` from any thread."""

    def __init__(self, node, spec, topic):
        self.node = node
        self.spec = spec
        self.name = spec.name
        self.topic = topic
        self.sent = 0
        self._send = None  # set by the runtime: send(msg, stamp_ns)

    @property
    def msg_type(self):
        return self.spec.msg_type

    def publish(self, msg, stamp=None):
        """Publish `msg`; `stamp` (ns) defaults to now on the graph clock."""
        if not isinstance(msg, self.spec.msg_type):
            raise TypeError(
                "node %r output %r carries %s, not %s"
                % (
                    self.node.name,
                    self.name,
                    self.spec.msg_type.type_name,
                    getattr(type(msg), "type_name", type(msg).__name__),
                )
            )
        if self._send is None:
            raise RuntimeError(
                "node %r is not running yet: publish from setup() or later" % self.node.name
            )
        self._send(self, msg, self.node.now_ns() if stamp is None else stamp)
        self.sent += 1


class BoundInput:
    """An input of one node instance; `latest` is the newest message delivered."""

    def __init__(self, node, spec, topic):
        self.node = node
        self.spec = spec
        self.name = spec.name
        self.topic = topic
        self.latest = None
        self.received = 0
        cb = spec.callback or ("on_" + spec.name)
        self.callback = getattr(node, cb, None)
        if spec.callback and self.callback is None:
            raise TypeError(
                "node class %s declares callback %r for input %r but has no such method"
                % (type(node).__name__, spec.callback, spec.name)
            )

    @property
    def msg_type(self):
        return self.spec.msg_type

    @property
    def policy(self):
        return self.spec.policy


class Node:
    """Base class of every node. Declare Inputs, Outputs and Params as class attributes.

    Hooks: setup() before the first message, teardown() when stopping (release hardware
    there: it runs on SIGINT/SIGTERM too). Services: now()/now_ns() on the graph clock,
    every()/after() timers, self.log (a logger named after the node), self.rng (a
    numpy RandomState seeded from the graph seed and the node name), request_shutdown().
    """

    inputs = collections.OrderedDict()
    outputs = collections.OrderedDict()
    params = collections.OrderedDict()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for kind, attr in ((Input, "inputs"), (Output, "outputs"), (Param, "params")):
            found = collections.OrderedDict()
            for klass in reversed(cls.__mro__):
                for name, value in vars(klass).items():
                    if isinstance(value, kind):
                        found[name] = value
            setattr(cls, attr, found)

    def __init__(self, name=None, params=None, remap=None, seed=0):
        self.name = name or type(self).__name__.lower()
        self.log = logging.getLogger("node." + self.name)
        params = dict(params or {})
        remap = dict(remap or {})
        where = " of node %r" % self.name
        unknown = set(params) - set(self.params)
        if unknown:
            raise ParamError(
                "node %r (%s) has no param %s; its params: %s"
                % (
                    self.name,
                    type(self).__name__,
                    ", ".join(sorted(unknown)),
                    ", ".join(self.params) or "none",
                )
            )
        self._params = {
            n: p.check(params[n], where) if n in params else p.default
            for n, p in self.params.items()
        }
        ports = set(self.inputs) | set(self.outputs)
        bad = set(remap) - ports
        if bad:
            raise ValueError(
                "node %r cannot remap %s: its inputs and outputs are %s"
                % (self.name, ", ".join(sorted(bad)), ", ".join(sorted(ports)) or "none")
            )
        self._ports = {}
        for n, spec in self.inputs.items():
            self._ports[n] = BoundInput(self, spec, remap.get(n, spec.topic))
        for n, spec in self.outputs.items():
            self._ports[n] = BoundOutput(self, spec, remap.get(n, spec.topic))
        self._warn_of_orphan_callbacks()
        self.rng = np.random.RandomState(zlib.crc32(("%d/%s" % (seed, self.name)).encode()))
        self._runtime = None

    def _warn_of_orphan_callbacks(self):
        """An on_<name> method with no input <name> is never called: most likely a typo in
        the method's or the input's name. Say so once, when the node is made."""
        called = {
            getattr(p.callback, "__func__", p.callback)
            for p in self._ports.values()
            if isinstance(p, BoundInput)
        }
        for attr in sorted(dir(type(self))):
            if not attr.startswith("on_") or attr[3:] in self.inputs:
                continue
            function = getattr(type(self), attr)  # from the class: a property is not run
            if callable(function) and function not in called:
                self.log.warning(
                    "%s.%s is never called: the node has no input %r (inputs: %s); rename "
                    "the method or the input",
                    type(self).__name__,
                    attr,
                    attr[3:],
                    ", ".join(self.inputs) or "none",
                )

    # ---- hooks

    @classmethod
    def pins(cls, params):
        """{BOARD pin: what it is for} of the header pins a node with `params` would use.

        Hardware nodes say so, and need not open anything to answer: a graph check refuses two
        nodes on one host claiming a pin, and `nanobot pinout --graph FILE` marks them.
        """
        return {}

    def setup(self):
        """Called once on the node's thread before any message or timer."""

    def teardown(self):
        """Called once on the node's thread when the node stops, even after errors."""

    # ---- services (provided by the executor's runtime)

    def now_ns(self):
        """Graph time in ns: wall clock on the board, virtual time in simulation."""
        return self._runtime.clock.now_ns()

    def now(self):
        """Graph time in seconds."""
        return self.now_ns() / 1e9

    def every(self, period, callback):
        """Call `callback()` every `period` seconds of graph time; returns a Timer."""
        return self._runtime.add_timer(period, callback, repeat=True)

    def after(self, delay, callback):
        """Call `callback()` once, `delay` seconds from now; returns a Timer."""
        return self._runtime.add_timer(delay, callback, repeat=False)

    def call_soon_threadsafe(self, fn, *args):
        """Run `fn(*args)` on the node's thread (from a hardware callback thread, say)."""
        self._runtime.call_soon_threadsafe(fn, *args)

    def request_shutdown(self, reason=""):
        """Ask the executor to stop the whole graph (e.g. a job is done)."""
        self.log.info("requests graph shutdown%s", ": " + reason if reason else "")
        self._runtime.request_shutdown(reason)

    @property
    def port_list(self):
        """Bound inputs and outputs in declaration order."""
        return [self._ports[n] for n in list(self.inputs) + list(self.outputs)]

    def __repr__(self):
        return "<%s %r>" % (type(self).__name__, self.name)


class Timer:
    """A periodic or one-shot timer; cancel() stops it."""

    def __init__(self, period_ns, callback, repeat, due_ns):
        if period_ns <= 0 and repeat:
            raise ValueError("a repeating timer needs a period > 0")
        self.period_ns = period_ns
        self.callback = callback
        self.repeat = repeat
        self.due_ns = due_ns
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class Stats:
    """Callback timing and error counts a runtime keeps for the heartbeat."""

    def __init__(self):
        self.callbacks = 0
        self.total_s = 0.0
        self.max_s = 0.0
        self.errors = 0

    def add(self, seconds):
        self.callbacks += 1
        self.total_s += seconds
        if seconds > self.max_s:
            self.max_s = seconds
