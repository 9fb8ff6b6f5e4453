"""The monitor's tally: accuracy counts every item, rejects included; rates from heartbeats."""

from apps.sorter.monitor import CallbackTime, MonitorNode, Tally, latency
from nanobot.clock import VirtualClock
from nanobot.msgs import Heartbeat
from nanobot.runtime import Runtime


def truth(*outcomes):
    """Ground truth with items of class `cls` that ended in `bin` (None: jammed)."""
    items = [
        dict(id=i, cls=cls, bin=b, reason="bin" if b is not None else "jam", end_t=float(i))
        for i, (cls, b) in enumerate(outcomes)
    ]
    return {"t0_ns": 0, "items": items}


def test_accuracy_counts_rejects_against_it_and_placed_accuracy_does_not():
    tally = Tally({"nut": 0, "bolt": 1})
    tally.truth = truth(("nut", 0), ("bolt", 1), ("nut", "reject"), ("bracket", "reject"))
    o = tally.outcome()
    assert (o["items"], o["correct"], o["rejected"]) == (4, 3, 1)
    assert o["accuracy"] == 0.75  # the rejected nut counts against it
    assert o["placed_accuracy"] == 1.0  # of the 3 items put in a bin, all right


def test_a_jam_counts_against_both():
    tally = Tally({"nut": 0})
    tally.truth = truth(("nut", 0), ("nut", None))
    o = tally.outcome()
    assert o["jams"] == 1
    assert o["accuracy"] == 0.5 and o["placed_accuracy"] == 0.5


def test_limit_counts_only_the_first_items_to_finish():
    tally = Tally({"nut": 0})
    tally.truth = truth(("nut", 0), ("nut", "reject"))
    assert tally.outcome(limit=1)["accuracy"] == 1.0


def test_callback_time_is_the_median_of_per_period_means_from_heartbeats():
    time = CallbackTime()
    # running (count, mean ms): a 200 ms first call (warm-up), then 10 ms, 12 ms, 11 ms calls
    for count, total in ((1, 200.0), (31, 500.0), (61, 860.0), (91, 1190.0), (91, 1190.0)):
        time.add(Heartbeat(node="detector", callbacks=count, callback_ms_mean=total / count))
    assert time.periods == [10.0, 12.0, 11.0]  # no calls in the last period: no figure
    assert time.ms() == 11.0
    # a restarted detector (a new pid) counts from 0 again: its first beat is a new start
    time.add(Heartbeat(node="detector", pid=7, callbacks=200, callback_ms_mean=100.0))
    time.add(Heartbeat(node="detector", pid=7, callbacks=230, callback_ms_mean=20300 / 230))
    assert time.periods == [10.0, 12.0, 11.0, 10.0]


def test_latency_added_by_the_graph_is_reported_in_real_time_only():
    figures = latency([20.0, 22.0, 30.0], 15.0, realtime=True)
    assert figures == {"p50": 22.0, "p99": 30.0, "detector": 15.0, "added_p50": 7.0}
    assert latency([20.0], 15.0, realtime=False)["added_p50"] is None
    assert latency([], None, realtime=True) == dict.fromkeys(
        ("p50", "p99", "detector", "added_p50")
    )


def test_a_restarted_node_s_rate_starts_again_rather_than_going_negative():
    monitor = MonitorNode("monitor", {}, {}, 0)
    clock = VirtualClock()
    Runtime(monitor, clock)
    monitor.setup()

    def beat(t, pid, sent):
        clock.advance_to(int(t * 1e9))
        outputs = {"tracks": {"topic": "tracks", "sent": sent}}
        monitor.on_heartbeats(Heartbeat(node="tracker", pid=pid, outputs=outputs))
        return monitor.rates.get("tracker")

    assert beat(0.0, 100, 0) is None
    assert beat(1.0, 100, 30) == 30.0
    assert beat(2.0, 200, 5) == 30.0  # killed and restarted: its count began again at 0
    assert beat(3.0, 200, 34) == 29.0
