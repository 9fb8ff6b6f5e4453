"""Node declarations and the node thread (NodeThread) over real sockets."""

import logging
import select
import threading

import numpy as np
import pytest

from nanobot import endpoints, msgs, runtime
from nanobot.node import Input, Node, Output, Param, ParamError
from nanobot.runtime import NodeThread
from nanobot.transport import Subscriber

from conftest import wait_for


class Echo(Node):
    """Republishes each number doubled; counts timer ticks."""

    numbers = Input(msgs.KeyValue, topic="in")
    doubled = Output(msgs.KeyValue, topic="out")
    factor = Param(2.0, help="multiplier", min=0)
    mode = Param("fast", choices=("fast", "slow"))

    def on_numbers(self, msg):
        self.doubled.publish(msgs.KeyValue(values={"n": msg.values["n"] * self.factor}))


class Source(Node):
    out = Output(msgs.KeyValue, topic="in")


def test_declarations_are_collected_in_order_and_inherited():
    class More(Echo):
        extra = Param(1)

    assert list(Echo.inputs) == ["numbers"]
    assert list(Echo.outputs) == ["doubled"]
    assert list(More.params) == ["factor", "mode", "extra"]
    node = More("m", {"factor": 3})
    assert node.factor == 3.0 and isinstance(node.factor, float)
    assert node.extra == 1 and node.mode == "fast"


@pytest.mark.parametrize(
    "params, message",
    [
        ({"bogus": 1}, "node 'e' .Echo. has no param bogus; its params: factor, mode"),
        ({"factor": "x"}, "param 'factor' of node 'e' must be float, not 'x'"),
        ({"factor": -1}, r"param 'factor' of node 'e' must be within \[0, None\], not -1.0"),
        ({"mode": "warp"}, "param 'mode' of node 'e' must be one of 'fast', 'slow', not 'warp'"),
    ],
)
def test_bad_params_are_one_clear_sentence(params, message):
    with pytest.raises(ParamError, match=message):
        Echo("e", params)


def test_remap_changes_topics_and_rejects_unknown_ports():
    node = Echo("e", remap={"numbers": "a/b"})
    assert node.numbers.topic == "a/b" and node.doubled.topic == "out"
    with pytest.raises(ValueError, match="cannot remap nope: its inputs and outputs are"):
        Echo("e", remap={"nope": "x"})


def test_ports_need_message_classes_and_named_callbacks_must_exist():
    with pytest.raises(TypeError, match="needs a message class"):
        Input(dict)

    class Bad(Node):
        x = Input(msgs.KeyValue, callback="handle")

    with pytest.raises(TypeError, match="declares callback 'handle' for input 'x'"):
        Bad("b")


def test_a_callback_named_for_no_input_is_reported(caplog):
    class Typo(Node):
        image = Input(msgs.Image)
        events = Input(msgs.GpioEvent, callback="on_event")

        def on_imgae(self, msg):
            pass

        def on_event(self, msg):  # named in its Input: called
            pass

        @property
        def on_fire(self):  # not a method; and reading it before setup would fail
            raise AssertionError("a property was read")

    with caplog.at_level(logging.WARNING, logger="node.t"):
        Typo("t")
    assert [r.getMessage() for r in caplog.records] == [
        "Typo.on_imgae is never called: the node has no input 'imgae' (inputs: image, events); "
        "rename the method or the input"
    ]


def test_publish_checks_type_and_running_state():
    node = Echo("e")
    with pytest.raises(
        TypeError, match="output 'doubled' carries nanobot/KeyValue, not nanobot/Status"
    ):
        node.doubled.publish(msgs.Status())
    with pytest.raises(RuntimeError, match="not running yet"):
        node.doubled.publish(msgs.KeyValue())


def test_image_inputs_default_to_newest_only():
    class Viewer(Node):
        image = Input(msgs.Image)
        events = Input(msgs.GpioEvent)

    assert Viewer.inputs["image"].policy.keep_last == 1
    assert Viewer.inputs["events"].policy.keep_all == 1000


def _plan(graph, node, inputs_from):
    plan = {
        n: [endpoints.ipc_endpoint(graph, node.name, node._ports[n].topic)] for n in node.outputs
    }
    for n in node.inputs:
        plan[n] = [endpoints.ipc_endpoint(graph, src, node._ports[n].topic) for src in inputs_from]
    plan["nanobot/heartbeat"] = [endpoints.ipc_endpoint(graph, node.name, "nanobot/heartbeat")]
    return plan


@pytest.fixture
def running():
    endpoints.prepare("t")
    runners = []

    def start(node, inputs_from=(), **kw):
        r = NodeThread(node, _plan("t", node, inputs_from), **kw)
        r.start()
        runners.append(r)
        return r

    yield start
    for r in runners:
        assert r.stop(), "node thread did not stop"


def test_messages_flow_through_a_node_thread(ctx, running):
    src = Source("src")
    running(src)
    echo = running(Echo("echo", {"factor": 3}), ["src"]).node
    out = Subscriber(ctx, "out", [endpoints.ipc_endpoint("t", "echo", "out")], msgs.KeyValue)
    n = [0]

    def pump():
        src.out.publish(msgs.KeyValue(values={"n": n[0]}))  # from this thread: marshalled
        n[0] += 1
        out.drain()

    wait_for(lambda: out.depth >= 3, poll=pump)
    values = [m.values["n"] for m in iter(out.take, None)]
    assert values == [3.0 * k for k in range(int(values[0] / 3), int(values[0] / 3) + len(values))]
    assert echo.numbers.received >= 3
    out.close()


def test_timers_callbacks_and_errors_run_on_the_node_thread(running):
    seen = []
    done = threading.Event()

    class Ticker(Node):
        def setup(self):
            self.every(0.01, self.tick)
            self.after(0.005, lambda: seen.append(("once", threading.current_thread().name)))

        def tick(self):
            seen.append(("tick", threading.current_thread().name))
            if len([s for s in seen if s[0] == "tick"]) == 3:
                raise RuntimeError("boom")  # counted, logged, the node keeps going
            if len(seen) >= 6:
                done.set()

    r = running(Ticker("ticker"))
    assert done.wait(10)
    assert {name for _, name in seen} == {"node-ticker"}
    assert [k for k, _ in seen].count("once") == 1
    assert r.stats.errors == 1
    hb = r.heartbeat({})
    assert hb.node == "ticker" and hb.errors == 1 and hb.callbacks >= 6


def test_setup_error_is_raised_by_start_and_teardown_still_runs(ctx):
    released = threading.Event()

    class Broken(Node):
        def setup(self):
            raise OSError("no camera at /dev/video9")

        def teardown(self):
            released.set()

    endpoints.prepare("t")
    r = NodeThread(Broken("broken"), {})
    with pytest.raises(OSError, match="no camera"):
        r.start()
    assert released.wait(5)
    assert r.done.wait(5)


def test_call_soon_threadsafe_and_shutdown_request(running):
    class Worker(Node):
        def setup(self):
            self.thread_names = []

    r = running(Worker("w"))
    attention = threading.Event()
    r.attention = attention
    r.node.call_soon_threadsafe(lambda: r.node.thread_names.append(threading.current_thread().name))
    r.node.call_soon_threadsafe(r.node.request_shutdown, "done")
    assert attention.wait(10)
    assert r.done.wait(10)
    assert r.node.thread_names == ["node-w"]
    assert r.shutdown_reason == "done"


def test_newest_frame_is_delivered_to_a_slow_callback(ctx, running):
    """keep_last=1: after a slow callback the next frame is the newest, not the oldest,
    though the node's thread, busy in the callback, received nothing meanwhile."""
    gate = threading.Event()
    got = []

    class Slow(Node):
        image = Input(msgs.Image, topic="camera/image")

        def on_image(self, msg):
            got.append(msg.frame_id)
            if len(got) == 1:
                gate.wait(10)  # a long inference

    class Cam(Node):
        image = Output(msgs.Image, topic="camera/image")

    cam = running(Cam("cam")).node
    slow = running(Slow("slow"), ["cam"])
    cam_endpoint = endpoints.ipc_endpoint("t", "cam", "camera/image")
    probe = Subscriber(ctx, "camera/image", [cam_endpoint], msgs.Image)
    frame = np.zeros((120, 160, 3), np.uint8)
    i = [0]

    def pump():
        i[0] += 1
        cam.image.publish(msgs.Image(data=frame.copy(), frame_id=i[0]))
        probe.drain()

    try:
        wait_for(lambda: got, poll=pump)  # the first frame is being processed
        first = got[0]
        # Meanwhile 20 more frames reach the node's socket (fewer than KEEP_LAST_DEPTH, the
        # most it holds for a busy node), as they reach this probe on the same host.
        wait_for(
            lambda: probe.latest is not None and probe.latest.frame_id >= first + 20,
            poll=lambda: (pump(), probe.take()),
        )
        gate.set()
        wait_for(lambda: len(got) >= 2)
    finally:
        probe.close()
    ((_, sub),) = slow.subs
    # Next in line would be first + 1. (Not exactly first + 20: frames received before the
    # node took its first one count too, and a frame may still be on its way.)
    assert first + 15 <= got[1] <= i[0], "stale frame %d after a slow callback" % got[1]
    assert sub.dropped >= 15


def test_a_wake_that_lands_while_the_node_thread_reads_its_pipe_is_not_lost(running, monkeypatch):
    """A wake (a message arriving, a call from another thread) may come between the node
    thread's poll and its read of the wake pipe; the read swallows its byte. The node must
    not be left believing a wake-up is on its way when the pipe is empty: it would then sleep
    through every later arrival until a timer fired (seen as frames delivered 100 ms or 1 s
    late in real-time runs of the sorter)."""

    class Idle(Node):  # no timers: nothing but a wake-up can wake it
        pass

    r = running(Idle("idle"))
    real_read = runtime.os.read
    raced = []

    def read_after_a_racing_wake(fd, n):
        if fd == r._wake_r and not raced:
            raced.append(True)
            r._wake()  # as the receiver thread would, between poll() and read()
        return real_read(fd, n)

    monkeypatch.setattr(runtime.os, "read", read_after_a_racing_wake)
    done = threading.Event()
    r.node.call_soon_threadsafe(done.set)
    assert done.wait(10) and raced
    # The call ran after the read: the flag says whether a byte is still in the pipe.
    readable = bool(select.select([r._wake_r], [], [], 0)[0])
    assert r._wake_pending == readable, "a wake-up is expected that nothing will send"


def test_a_node_waiting_for_its_next_timer_sleeps_rather_than_spins(running, monkeypatch):
    """zmq_poll counts whole milliseconds: in the last one before a timer is due it would
    return at once, again and again (a 200 Hz timer cost a fifth of a core that way)."""
    polls = []
    real_poll = runtime.poll

    def counting_poll(items, timeout_ms=-1):
        polls.append(timeout_ms)
        return real_poll(items, timeout_ms)

    monkeypatch.setattr(runtime, "poll", counting_poll)
    ticked = threading.Event()

    class Tick(Node):
        def setup(self):
            self.n = 0
            self.every(0.005, self.tick)

        def tick(self):
            self.n += 1
            if self.n == 40:
                ticked.set()

    r = running(Tick("tick"))
    assert ticked.wait(10)
    n, calls = r.node.n, len(polls)
    # Per tick: one poll that waits whole milliseconds, one after the rest of the last
    # millisecond, and now and then one more; a spinning loop polls hundreds of times.
    assert calls <= 4 * n + 10, "%d polls for %d ticks" % (calls, n)


@pytest.mark.parametrize("slots", [1, -1, 2.5, "8"])
def test_output_slots_must_be_0_or_at_least_2(slots):
    with pytest.raises(ValueError, match="slots must be 0 \\(off\\) or an int >= 2"):
        Output(msgs.Image, slots=slots)
    assert Output(msgs.Image, slots=0).slots == 0 and Output(msgs.Image).slots == 8
