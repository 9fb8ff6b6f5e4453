"""Killing nodes of a live sorter with SIGKILL, as a crash or the OOM killer would:
python -m apps.sorter --hal sim --realtime (one process per node group, real ZeroMQ, the wall
clock, the shipped model), watched from the test process over the graph's own topics.

A node's process is found from its heartbeat (Heartbeat.pid on nanobot/heartbeat). The run is
stopped with Ctrl-C (SIGINT) once the test has seen what it waits for, so no fixed run length
has to guess how long a loaded machine takes to start six processes; every wait is for a
message (or a process), with a bounded timeout.
"""

import os
import signal

import pytest
from live_sorter import (
    BeltTrack,
    Sorter,
    Tap,
    Truth,
    children,
    view_times,
    wall_ns,
    with_heartbeats,
    write_graph,
)

from apps.sorter import config as configs
from apps.sorter.io import KEEPALIVE, IONode
from apps.sorter.msgs import BeltState, DiverterCommand
from nanobot.msgs import Detections, KeyValue

from conftest import wait_for

WATCHDOG_S = IONode.params["watchdog_s"].default
#: How late the io node may notice the silence on a loaded 2-core machine: its scan runs
#: every 5 ms, but its process renders the camera's frames too and shares the cores.
WATCHDOG_MARGIN_S = 1.0
#: A belt reading under this has had no encoder pulse (2 mm) for 0.4 s: it stands still.
STILL_MM_S = 5.0
#: Belt travel after the motor is cut: the belt coasts down (time constant 0.25 s, about 35 mm
#: at 140 mm/s) and the encoder counts in 2 mm steps.
COAST_MM = 60.0
#: Slack on the times an item was in view, as worked out from the belt record: 50 ms, a
#: frame and a half.
SLACK_NS = 50_000_000
#: Report keys the tests print.
SHOWN = ("items", "correct", "wrong_bin", "rejected", "jams", "missed", "reject_reasons", "io")


def truth_of(tap):
    """The newest ground truth the tap has (cell/truth), or None."""
    values = tap.latest("cell/truth")
    return Truth(values.values) if values is not None else None


def describe(items):
    return ", ".join("%d %s -> %s" % (r["id"], r["cls"], r["bin"]) for r in items) or "none"


def test_killing_the_scheduler_trips_the_io_watchdog_and_stops_the_belt(tmp_path):
    # The scheduler shares its process (group planner) and so its restart policy with the
    # tracker: killing it takes the tracker down too, and neither may come back.
    path, graph = write_graph(
        tmp_path, scheduler={"restart": "never"}, tracker={"restart": "never"}
    )
    topics = {
        "io/status": KeyValue,
        "belt": BeltState,
        "cell/truth": KeyValue,
        "commands": DiverterCommand,
    }
    with Sorter(tmp_path, path, "--seed", "3") as sorter:
        tap = Tap(graph, with_heartbeats(topics))
        try:
            # Sorting for real: the belt runs and an item has gone into a diverter's bin.
            # (On an overloaded machine the watchdog may have tripped already and let the
            # belt go again: a scheduler held up for a second is what it guards against.)
            def sorting():
                truth, status = truth_of(tap), tap.latest("io/status")
                return (
                    tap.pid("scheduler")
                    and truth is not None
                    and truth.diverted()
                    and status.values["state"] == "running"
                )

            wait_for(sorting, timeout=90, poll=tap.poll)
            trips_before = tap.latest("io/status").values["watchdog"]
            killed_ns = wall_ns()
            os.kill(tap.pid("scheduler"), signal.SIGKILL)

            def trip():
                """The io node's first status after the kill that says the watchdog tripped."""
                for seen in tap.seen["io/status"]:
                    if seen.stamp > killed_ns and seen.msg.values["state"] == "watchdog":
                        return seen
                return None

            wait_for(trip, timeout=30, poll=tap.poll)
            tripped, tripped_ns = trip().msg, trip().stamp

            def still_since():
                """Stamp of the first belt state after the trip that reads under STILL_MM_S."""
                belt = tap.messages("belt", tripped_ns)
                return next((m.stamp for m in belt if m.speed_mm_s < STILL_MM_S), None)

            # The belt stood still, then a second more of belt states and ground truth came.
            wait_for(still_since, timeout=30, poll=tap.poll)
            still_ns = still_since()

            def a_second_later():
                truth = truth_of(tap)
                return (
                    tap.messages("belt")[-1].stamp > still_ns + 1e9
                    and truth.graph_ns(truth.values["world_t"]) > still_ns + 1e9
                )

            wait_for(a_second_later, timeout=30, poll=tap.poll)
            truth = truth_of(tap)
            belt = tap.messages("belt")
            beats = tap.heartbeats("scheduler")
            keepalives = [s.stamp for s in tap.seen["commands"] if s.msg.diverter == KEEPALIVE]
        finally:
            tap.close()
        code, report = sorter.stop()

    # The io node heard the last keepalive, waited watchdog_s, and no more than the margin.
    last_keepalive_ns = max(t for t in keepalives if t <= killed_ns)
    silent_s = (tripped_ns - last_keepalive_ns) / 1e9
    after_kill_s = (tripped_ns - killed_ns) / 1e9
    stop_s = (still_ns - tripped_ns) / 1e9
    ended = truth.ended_after(tripped_ns)
    print(
        "watchdog tripped %.3f s after the kill, %.3f s after the last keepalive; belt still "
        "%.2f s later; left the belt after the trip: %s; report: %s"
        % (after_kill_s, silent_s, stop_s, describe(ended), {k: report[k] for k in SHOWN})
    )
    assert silent_s >= WATCHDOG_S, "the watchdog fired early"
    assert 0 < after_kill_s <= WATCHDOG_S + WATCHDOG_MARGIN_S
    assert tripped.values["pending"] == 0, "accepted commands were not dropped"
    assert not [t for t in keepalives if t > killed_ns], "a dead scheduler spoke"
    assert not [b for b in beats if b.stamp > killed_ns], "the scheduler came back"

    # The belt: running until the kill, stopped from the trip on, and it stays put.
    before = [m for m in belt if m.stamp < killed_ns]
    after = [m for m in belt if m.stamp > tripped_ns]
    still = [m for m in after if m.stamp >= still_ns]
    assert before[-1].running
    assert after and not any(m.running for m in after)
    assert stop_s < 3.0, "the belt took long to stop"
    assert after[-1].position_mm - after[0].position_mm <= COAST_MM
    assert still[-1].position_mm - still[0].position_mm <= 2.0, "the belt crept on"

    # Nothing went into a bin after the trip: the items stay where the belt stopped. Physics
    # allows one jam: an item that met its paddle as it retracted (the trip came in the
    # 0.15 s the paddle was out for it) is knocked off while the belt coasts.
    assert not [r for r in ended if r["bin"] is not None], describe(ended)
    assert len(ended) <= 1 and all(truth.graph_ns(r["end_t"]) < still_ns for r in ended)

    # The run's own report says the same; the killed node makes its exit status 1.
    assert code == 1, "a killed node makes the run unclean"
    assert report["io"]["state"] == "watchdog"
    assert report["io"]["watchdog"] == tripped.values["watchdog"] == trips_before + 1
    assert report["wrong_bin"] == 0 and report["jams"] == len(ended)
    assert report["items"] >= 1 and report["correct"] >= 1


@pytest.mark.parametrize("crashes", [1, 3], ids=["killed-once", "crash-loop"])
def test_killing_the_model_detector_mid_run_costs_rejects_never_a_wrong_bin(tmp_path, crashes):
    """The shipped detector (the model on ONNX Runtime; OpenCV DNN where that is missing) is
    SIGKILLed mid-run and restarted by the supervisor (restart: on-failure). With crashes=3
    its first two replacements are killed too, the moment they start: restarted after 0.5 s,
    then 1 s, then 2 s, it is down longer than an item takes to cross the camera's view (1.9 s
    of belt at 140 mm/s, plus the item's length), so items pass that it never saw."""
    bins = configs.load()["bins"]

    def right_bin(item):
        return item["bin"] == bins.get(item["cls"], "reject")

    path, graph = write_graph(tmp_path)  # as shipped
    topics = {"detections": Detections, "belt": BeltState, "cell/truth": KeyValue}
    with Sorter(tmp_path, path, "--seed", "5") as sorter:
        tap = Tap(graph, with_heartbeats(topics))
        try:
            # Sorting for real: an item has gone into its diverter's bin.
            def sorting():
                truth = truth_of(tap)
                return tap.pid("detector") and truth is not None and truth.diverted()

            wait_for(sorting, timeout=90, poll=tap.poll)
            killed = [tap.pid("detector")]
            workers = children(sorter.proc.pid)
            killed_ns = wall_ns()
            os.kill(killed[0], signal.SIGKILL)
            for _ in range(crashes - 1):
                # No message announces a process before it runs: watch the supervisor's.
                wait_for(lambda: children(sorter.proc.pid) - workers, timeout=30)
                (pid,) = children(sorter.proc.pid) - workers
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                workers.add(pid)

            # Restarted, it detects again: a frame taken after the kill can only have been
            # seen by the new process.
            wait_for(lambda: tap.pid("detector") not in killed, timeout=60, poll=tap.poll)

            def detected_after(ns):
                return [m for m in tap.messages("detections") if m.image_stamp > ns]

            wait_for(lambda: detected_after(killed_ns), timeout=60, poll=tap.poll)
            back_ns = min(m.image_stamp for m in detected_after(killed_ns))

            def sorted_after_return():
                """Items the new detector saw from the start, now in their diverter's bin."""
                truth, belt = truth_of(tap), BeltTrack(tap.messages("belt"))
                times = [(r, view_times(truth, belt, r)) for r in truth.diverted()]
                return [r for r, t in times if t and t[0] > back_ns and right_bin(r)]

            wait_for(lambda: len(sorted_after_return()) >= 2, timeout=90, poll=tap.poll)
            truth, belt = truth_of(tap), BeltTrack(tap.messages("belt"))
            detections = detected_after(back_ns)
            beats = tap.heartbeats("detector")
        finally:
            tap.close()
        code, report = sorter.stop()

    # The items the outage touched: in view while it lasted; of those, never whole in a frame
    # (so never classified), and in no frame at all (so no track: the first beam finds them).
    during, hidden, unseen = [], [], []
    for r in truth.finished():
        t = view_times(truth, belt, r)  # (front in view, front at the view's end, rear out)
        if t is None or t[2] < killed_ns or t[0] > back_ns:
            continue
        during.append(r)
        if killed_ns < t[0] - SLACK_NS and t[1] + SLACK_NS < back_ns:
            hidden.append(r)
        if killed_ns < t[0] - SLACK_NS and t[2] + SLACK_NS < back_ns:
            unseen.append(r)
    down_s = (back_ns - killed_ns) / 1e9
    print(
        "detector down %.2f s (killed %s), %d detections since; in view meanwhile: %s; never "
        "whole in a frame: %s; in none: %s; report: %s"
        % (down_s, killed, len(detections), describe(during), describe(hidden),
           describe(unseen), {k: report[k] for k in SHOWN})
    )  # fmt: skip

    assert code == 1, "killed nodes make the run unclean"
    assert not [b for b in beats if b.msg.pid in killed[1:]], "a replacement ran before its kill"
    assert down_s >= sum(0.5 * 2**i for i in range(crashes)), "restarted before its backoff"
    assert len(detections) >= 10, "the restarted detector goes on detecting"
    # No correctness lost: nothing in a wrong bin, nothing jammed, and what the detector
    # could not see went to reject, counted there (or as missed, when no track had it).
    assert report["wrong_bin"] == 0 and report["jams"] == 0, report
    assert all(right_bin(r) or r["bin"] == "reject" for r in during), describe(during)
    assert all(r["bin"] == "reject" for r in hidden), describe(hidden)
    assert report["rejected"] >= len([r for r in hidden if r["cls"] in bins])
    assert report["missed"] >= len(unseen)
    if crashes > 1:  # 3.5 s of backoff alone: 490 mm of belt, more than view + gap + item
        assert hidden, "the outage hid no item"
