"""The simulation executor: virtual time, ordered delivery through the codec, determinism."""

import logging
import os
import re
import threading

import pytest

import nanobot
from nanobot.executors.sim import SimError, SimExecutor
from nanobot.graph import Graph, load
from nanobot.node import HEARTBEAT_TOPIC

from sim_nodes import (
    Deferrer,
    Faulty,
    ForeignThread,
    HeartbeatSink,
    Lifecycle,
    NewestRecorder,
    NewestTwoRecorder,
    PositivePublisher,
    PositiveSink,
    Recorder,
    Relay,
    Stopper,
    Ticker,
    TimerProbe,
    Traced,
)

MS = 1_000_000  # ns
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def shared_journal(sim):
    """One journal for every Traced node of `sim`, to see the order across nodes."""
    journal = []
    for node in sim.nodes.values():
        if isinstance(node, Traced):
            node.journal = journal
    return journal


def tickers(graph, names, period=0.1, count=0, noise=0):
    for name in names:
        graph.add(Ticker, name, {"period": period, "count": count, "noise": noise})


# ---------------------------------------------------------------- virtual time


def test_timers_fire_at_exact_virtual_times():
    g = Graph("timers")
    g.add(TimerProbe, "probe", {"period": 0.1, "delay": 0.25})
    g.add(TimerProbe, "third", {"period": 1 / 3, "delay": 0.0})
    sim = SimExecutor(g)
    result = sim.run(until=1.0)
    probe = [(what, t) for _, what, t in sim.nodes["probe"].journal]
    assert probe == [("every", k * 100 * MS) for k in (1, 2)] + [("after", 250 * MS)] + [
        ("every", k * 100 * MS) for k in range(3, 11)
    ]
    third = [(what, t) for _, what, t in sim.nodes["third"].journal]
    assert third == [("after", 0), ("every", 333_333_333), ("every", 666_666_666),
                     ("every", 999_999_999)]  # fmt: skip
    assert result.time == 1.0
    assert result.reason == "reached 1 s of virtual time"


def test_run_until_and_step_interleave_with_checks():
    g = Graph("steps")
    g.add(TimerProbe, "probe", {"period": 0.1, "delay": 0.25})
    with SimExecutor(g) as sim:
        journal = sim.nodes["probe"].journal
        assert sim.run_until(0.15) == 1
        assert sim.now == 0.15
        assert [t for _, _, t in journal] == [100 * MS]
        assert sim.step()
        assert (sim.now, journal[-1]) == (0.2, ("probe", "every", 200 * MS))
        assert sim.step()
        assert (sim.now, journal[-1]) == (0.25, ("probe", "after", 250 * MS))
        with pytest.raises(ValueError, match=r"already at 0\.25 s"):
            sim.run_until(0.1)
    with pytest.raises(SimError, match="has ended"):
        sim.run(until=1.0)


def test_an_idle_graph_ends_the_run_without_until():
    g = Graph("idle")
    tickers(g, ["ticker"], period=0.1, count=3)
    g.add(Recorder, "rec")
    sim = SimExecutor(g)
    result = sim.run()
    assert result.reason == "idle: no node has anything left to do"
    assert result.time == pytest.approx(0.3)
    assert [m.n for m in sim.nodes["rec"].got] == [1, 2, 3]


# ---------------------------------------------------------------- delivery


def test_delivery_order_is_scheduling_order_then_graph_order():
    def journal_of_run():
        g = Graph("order")
        tickers(g, ["ticker_a", "ticker_b"], period=0.1, count=2)
        g.add(Recorder, "z_rec")  # graph order, not name order, decides
        g.add(Recorder, "a_rec")
        sim = SimExecutor(g)
        journal = shared_journal(sim)
        sim.run()
        return [entry for entry in journal if entry[0].endswith("_rec")]

    expected = [
        (rec, sender, n, n * 100 * MS)
        for n in (1, 2)
        for rec in ("z_rec", "a_rec")
        for sender in ("ticker_a", "ticker_b")
    ]
    assert journal_of_run() == expected
    assert journal_of_run() == expected


def test_keep_last_delivers_the_newest_of_messages_due_at_one_instant():
    g = Graph("policies")
    tickers(g, ["a", "b", "c"], period=0.1, count=3)
    g.add(NewestRecorder, "newest")
    g.add(NewestTwoRecorder, "newest2")
    g.add(Recorder, "all")
    sim = SimExecutor(g)
    sim.run()

    def got(name):
        return [(m.sender, m.n) for m in sim.nodes[name].got]

    assert got("newest") == [("c", 1), ("c", 2), ("c", 3)]
    assert got("newest2") == [("b", 1), ("c", 1), ("b", 2), ("c", 2), ("b", 3), ("c", 3)]
    assert got("all") == [(s, n) for n in (1, 2, 3) for s in "abc"]
    inbox = {name: sim.runtimes[name].inboxes["tick"] for name in ("newest", "newest2", "all")}
    assert [(i.received, i.dropped) for i in inbox.values()] == [(9, 6), (9, 3), (9, 0)]


def test_messages_pass_through_the_codec_as_read_only_arrays():
    g = Graph("codec")
    tickers(g, ["ticker"], period=0.1, count=2, noise=3)
    g.add(Recorder, "rec")
    sim = SimExecutor(g, record=True)
    result = sim.run()
    published = result.published("tick")
    received = sim.nodes["rec"].got
    assert [p.seq for p in published] == [0, 1]
    assert [p.stamp for p in published] == [100 * MS, 200 * MS]
    assert [p.message() for p in published] == received
    for p, msg in zip(published, received):
        assert p.wire()[0] == b"tick\0"
        assert msg is not p.message()
        assert not msg.noise.flags.writeable  # a view of the frame, as on the wire
        assert not p.frames[2].flags.writeable  # frozen at the publisher, as Publisher does


def test_a_message_its_type_rejects_is_counted_as_malformed_at_the_receiver(caplog):
    g = Graph("malformed")
    g.add(PositivePublisher, "publisher")
    g.add(PositiveSink, "sink")
    sim = SimExecutor(g)
    beats = []
    sim.tap(HEARTBEAT_TOPIC, beats.append)
    with caplog.at_level(logging.WARNING, logger="nanobot.transport"):
        result = sim.run(until=1.0)
    assert result.reason == "reached 1 s of virtual time"
    assert sim.nodes["sink"].values == [2]
    assert dict(sim.runtimes["sink"].inboxes["positive"].malformed) == {"fields": 1}
    assert [r.stats.errors for r in sim.runtimes.values()] == [0, 0]
    (sink_beat,) = [p.message() for p in beats if p.source == "sink"]
    assert sink_beat.inputs["positive"]["malformed"] == 1
    (warning,) = caplog.records
    assert re.search(r"fields message on input 'sink.positive' .*from publisher", warning.message)


def test_latency_delays_every_delivery():
    def arrival_times(latency):
        g = Graph("latency")
        tickers(g, ["ticker"], period=0.1, count=3)
        g.add(Relay, "relay")
        g.add(Recorder, "rec", remap={"tick": "relayed"})
        sim = SimExecutor(g, latency=latency)
        sim.run()
        return [t for *_, t in sim.nodes["rec"].journal]

    assert arrival_times(0.0) == [100 * MS, 200 * MS, 300 * MS]
    assert arrival_times(0.03) == [160 * MS, 260 * MS, 360 * MS]  # two hops of 30 ms
    with pytest.raises(ValueError, match="latency must be >= 0"):
        SimExecutor(Graph("x"), latency=-1)


# ---------------------------------------------------------------- heartbeats


def test_heartbeats_carry_received_and_dropped_counts():
    g = Graph("beats")
    tickers(g, ["a", "b"], period=0.25)
    g.add(NewestRecorder, "newest")
    g.add(HeartbeatSink, "sink")
    sim = SimExecutor(g)
    beats = []
    sim.tap(HEARTBEAT_TOPIC, beats.append)
    sim.run(until=2.0)
    order = ["a", "b", "newest", "sink"]
    assert [(p.time_ns, p.source) for p in beats] == [
        (t, n) for t in (10**9, 2 * 10**9) for n in order
    ]
    by = {(p.time_ns, p.source): p.message() for p in beats}
    # At 1 s the heartbeats fire before that instant's ticks: ticks of 0.25, 0.5 and 0.75 s are
    # counted, two per instant, of which a keep_last=1 input drops one.
    first = by[(10**9, "newest")]
    assert first.inputs == {"tick": {"topic": "tick", "received": 6, "depth": 0, "dropped": 3,
                                     "malformed": 0, "rejected": 0}}  # fmt: skip
    assert (first.node, first.node_class, first.uptime) == (
        "newest",
        "sim_nodes:NewestRecorder",
        1.0,
    )
    assert first.callbacks == 3
    assert by[(2 * 10**9, "newest")].inputs["tick"]["received"] == 14
    assert by[(2 * 10**9, "newest")].inputs["tick"]["dropped"] == 7
    assert by[(10**9, "a")].outputs == {"tick": {"topic": "tick", "sent": 3}}
    assert [h.node for h in sim.nodes["sink"].got] == order * 2


# ---------------------------------------------------------------- stopping


def test_request_shutdown_stops_the_run_at_that_instant():
    g = Graph("stop")
    tickers(g, ["ticker"], period=0.1)
    g.add(Recorder, "rec")
    g.add(Stopper, "stopper", {"delay": 0.35})
    sim = SimExecutor(g)
    result = sim.run(until=10.0)
    assert result.reason == "node 'stopper' requested shutdown: done"
    assert result.time == 0.35
    assert [m.n for m in sim.nodes["rec"].got] == [1, 2, 3]


def test_setup_failure_names_the_node_and_tears_down_what_was_set_up():
    g = Graph("setup")
    g.add(Lifecycle, "first")
    g.add(Lifecycle, "broken", {"fail": True})
    g.add(Lifecycle, "never")
    sim = SimExecutor(g)
    journal = shared_journal(sim)
    expected = r"node 'broken' \(sim_nodes:Lifecycle\) failed in setup\(\): RuntimeError: no such"
    with pytest.raises(SimError, match=expected):
        sim.run(until=1.0)
    assert [entry[:2] for entry in journal] == [
        ("first", "setup"), ("broken", "setup"), ("broken", "teardown"), ("first", "teardown"),
    ]  # fmt: skip


def test_teardown_runs_in_reverse_order_when_the_run_ends():
    g = Graph("teardown")
    for name in ("a", "b", "c"):
        g.add(Lifecycle, name)
    sim = SimExecutor(g)
    journal = shared_journal(sim)
    sim.run(until=1.0)
    assert journal == [(n, "setup", 0) for n in "abc"] + [(n, "teardown", 10**9) for n in "cba"]


def test_teardown_runs_when_the_run_is_interrupted():
    g = Graph("interrupt")
    g.add(Lifecycle, "a")
    g.add(Lifecycle, "b", {"interrupt_at": 0.5})
    sim = SimExecutor(g)
    journal = shared_journal(sim)
    with pytest.raises(KeyboardInterrupt):
        sim.run(until=1.0)
    assert journal[2:] == [("b", "teardown", 500 * MS), ("a", "teardown", 500 * MS)]


def test_a_callback_error_is_counted_and_the_run_goes_on(caplog):
    g = Graph("errors")
    g.add(Faulty, "faulty", {"period": 0.1})
    sim = SimExecutor(g)
    with caplog.at_level(logging.ERROR):
        result = sim.run(until=1.0)
    assert result.reason == "reached 1 s of virtual time"
    assert sim.runtimes["faulty"].stats.errors == 10
    assert len(caplog.records) == 10


# ---------------------------------------------------------------- calls from elsewhere


def test_call_soon_threadsafe_runs_at_the_current_virtual_time_in_order():
    g = Graph("soon")
    g.add(Deferrer, "d", {"at": 0.1})
    sim = SimExecutor(g)
    sim.run()
    assert sim.nodes["d"].journal == [
        ("d", "timer", 100 * MS), ("d", "after0", 100 * MS), ("d", "soon", 100 * MS),
    ]  # fmt: skip


def test_call_soon_threadsafe_from_another_thread_runs_when_the_simulation_goes_on():
    g = Graph("foreign")
    g.add(Traced, "node")
    with SimExecutor(g) as sim:
        sim.run_until(0.5)
        node = sim.nodes["node"]
        caller = threading.Thread(target=node.call_soon_threadsafe, args=(node.note, "external"))
        caller.start()
        caller.join()
        assert node.journal == []
        sim.run_until(1.0)
    assert node.journal == [("node", "external", 500 * MS)]


def test_realtime_paces_virtual_time_to_the_wall_clock():
    g = Graph("realtime")
    g.add(TimerProbe, "probe", {"period": 0.1, "delay": 0.5})
    g.add(ForeignThread, "gpio")
    sim = SimExecutor(g, realtime=10.0)  # ten times faster than real time
    result = sim.run(until=1.0)
    assert 0.1 <= result.wall < 5.0
    assert [t for *_, t in sim.nodes["probe"].journal if _[1] == "every"] == [
        k * 100 * MS for k in range(1, 11)
    ]
    ((_, what, t),) = sim.nodes["gpio"].journal
    assert what == "external" and 0 <= t <= 10**9
    with pytest.raises(ValueError, match="realtime must be"):
        SimExecutor(g, realtime=-1)


# ---------------------------------------------------------------- determinism and speed


def noisy_stream(seed, graph_seed=0, **options):
    g = Graph("noisy", seed=graph_seed)
    tickers(g, ["a", "b"], period=0.05, noise=16)
    g.add(Recorder, "rec")
    result = SimExecutor(g, seed=seed, **options).run(until=2.0)
    return [(p.topic, p.time_ns, p.wire()) for p in result.records if p.topic != HEARTBEAT_TOPIC]


def test_same_seed_gives_the_same_message_stream_bit_for_bit():
    first = noisy_stream(1, record=True)
    assert len(first) == 80
    assert noisy_stream(1, record=True) == first
    assert noisy_stream(None, graph_seed=1, record=True) == first  # the graph's seed by default
    assert noisy_stream(2, record=True) != first
    a, b = first[0][2], first[1][2]
    assert a[2] != b[2]  # each node's rng is its own


def test_record_a_list_of_topics_keeps_only_those():
    g = Graph("some")
    tickers(g, ["ticker"], period=0.1, count=2)
    g.add(Recorder, "rec")
    result = SimExecutor(g, record=["tick"]).run(until=1.0)
    assert [(p.topic, p.source, p.seq) for p in result.records] == [
        ("tick", "ticker", 0), ("tick", "ticker", 1),
    ]  # fmt: skip


def test_demo_graph_runs_faster_than_real_time():
    graph = load(os.path.join(os.path.dirname(nanobot.__file__), "graphs", "demo.yaml"))
    sim = SimExecutor(graph, record=["report"])
    result = sim.run(until=10.0)
    reports = [p.message().values for p in result.published("report")]
    assert [(r["frames"], r["skipped"]) for r in reports] == [(30, 0)] * 10
    assert sim.nodes["monitor"].total == 300
    assert result.speedup > 2, result


def test_docs_example_runs():
    with open(os.path.join(ROOT, "docs", "simulation.md")) as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    assert len(blocks) == 4
    namespace = {"__name__": "simulation_doc"}
    for code in blocks:
        exec(compile(code, "docs/simulation.md", "exec"), namespace)
