"""The monitor: a live status line while the sorter runs, and its report when it stops.

It listens to the scheduler's decisions, the belt, the io node's status, every node's
heartbeat (for rates) and, in simulation, the cell's ground truth; it prints to stdout: one
line rewritten with \\r on a terminal, a line every `status_period` seconds otherwise. When
`items` items have left the belt it asks the graph to stop; on any stop (Ctrl-C included)
it prints the report (`json`: as one JSON object on the last line). docs/sorter.md lists the
report's keys.
"""

import collections
import json
import sys
import time

from nanobot.msgs import Heartbeat, KeyValue
from nanobot.node import Input, Node, Param

from .msgs import BeltState

WANT_REJECT = "reject"


class Tally:
    """Counts what became of the items, from ground truth and the scheduler's decisions."""

    def __init__(self, bins):
        self.bins = dict(bins)
        self.decisions = collections.OrderedDict()  # item id -> newest decision values
        self.latencies = []  # ms, decision per target
        self.truth = None

    def decision(self, values):
        self.decisions[values["item"]] = values
        if values.get("latency_ms") is not None:
            self.latencies.append(values["latency_ms"])

    def outcome(self, limit=None):
        """Counts over the finished items (the first `limit`), from ground truth."""
        out = dict(items=0, correct=0, wrong_bin=0, wrong_timing=0, rejected=0, jams=0)
        out.update(accuracy=None, placed_accuracy=None)
        if not self.truth:
            return out
        t0 = self.truth.get("t0_ns", 0)
        plans = [d for d in self.decisions.values() if d.get("target") is not None]
        finished = [r for r in self.truth["items"] if r["reason"] is not None]
        finished.sort(key=lambda r: r["end_t"])
        for r in finished[:limit]:
            out["items"] += 1
            want = self.bins.get(r["cls"], WANT_REJECT)
            if r["bin"] is None:
                out["jams"] += 1
            elif r["bin"] == want:
                out["correct"] += 1
            elif r["bin"] == WANT_REJECT:
                out["rejected"] += 1
            else:
                out["wrong_bin"] += 1
                at = t0 + r["end_t"] * 1e9
                planned = [
                    d
                    for d in plans
                    if d["target"] == r["bin"] and abs(d["arrive_at"] - at) < 0.08e9
                ]
                if not planned:  # no plan sent it there: timing, not the detector
                    out["wrong_timing"] += 1
        placed = out["correct"] + out["wrong_bin"] + out["jams"]
        out["accuracy"] = out["correct"] / out["items"] if out["items"] else None
        out["placed_accuracy"] = out["correct"] / placed if placed else None
        return out


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100.0 * (len(values) - 1)))]


def latency(latencies_ms, detector_ms, realtime):
    """The report's latency figures: frame -> decision p50 and p99, the detector's own time
    per frame and, in real time, what the rest of the path (transport, queues, tracker,
    scheduler) adds to it. In virtual time callbacks take no time: there is nothing to add."""
    p50 = percentile(latencies_ms, 50)
    added = p50 - detector_ms if realtime and None not in (p50, detector_ms) else None
    return {
        "p50": p50,
        "p99": percentile(latencies_ms, 99),
        "detector": detector_ms,
        "added_p50": added,
    }


class CallbackTime:
    """A node's time per callback from its heartbeats: the mean over each heartbeat period
    (heartbeats carry the running count and mean), and the median of those means, which
    leaves out a slow first call (model warm-up) and passing load."""

    def __init__(self):
        self.periods = []  # ms per callback, one figure per heartbeat period
        self._last = None  # (callbacks, total ms, pid) at the last heartbeat

    def add(self, beat):
        total = beat.callbacks * beat.callback_ms_mean
        last, self._last = self._last, (beat.callbacks, total, beat.pid)
        if last is not None and beat.pid == last[2] and beat.callbacks > last[0]:
            self.periods.append((total - last[1]) / (beat.callbacks - last[0]))

    def ms(self):
        return percentile(self.periods, 50)


class MonitorNode(Node):
    """Prints the sorter's status while it runs and its report when it stops."""

    decisions = Input(KeyValue, topic="scheduler/decisions", keep_all=10000)
    truth = Input(KeyValue, topic="cell/truth", keep_last=1)
    io_status = Input(KeyValue, topic="io/status", keep_last=1)
    belt = Input(BeltState, keep_last=1)
    heartbeats = Input(Heartbeat, topic="nanobot/heartbeat", keep_all=1000)

    items = Param(0, min=0, help="stop the graph when this many items have left the belt")
    status_period = Param(2.0, min=0.1, help="seconds between status lines (not on a terminal)")
    json = Param(False, help="print the report as one JSON line at the end")
    settings = Param({}, help="the run's settings, copied into the report")
    bins = Param({}, help="class -> diverter, to judge ground truth")

    def setup(self):
        self.tally = Tally(self.bins)
        self.callback_time = collections.defaultdict(CallbackTime)  # node -> its time
        self.rates = {}  # node -> {"fps": frames/s of its busiest output, ...}
        self._sent = {}  # node -> (time, {output: sent}, pid)
        self.started = self.now()
        self.wall0 = time.monotonic()
        self.tty = sys.stdout.isatty()
        self.reported = False
        self.every(0.25 if self.tty else self.status_period, self.show)

    def on_decisions(self, msg):
        self.tally.decision(msg.values)

    def on_truth(self, msg):
        self.tally.truth = msg.values
        if self.items and self.tally.outcome()["items"] >= self.items:
            self.request_shutdown("%d items have left the belt" % self.items)

    def on_heartbeats(self, msg):
        now = self.now()
        sent = {name: o.get("sent", 0) for name, o in msg.outputs.items()}
        previous = self._sent.get(msg.node)
        self._sent[msg.node] = (now, sent, msg.pid)
        self.callback_time[msg.node].add(msg)
        if previous is None or now <= previous[0] or msg.pid != previous[2]:
            return  # a new process (the node restarted) counts from 0 again: wait a beat
        dt = now - previous[0]
        rates = {n: (c - previous[1].get(n, 0)) / dt for n, c in sent.items()}
        busiest = max(rates.values()) if rates else 0.0
        self.rates[msg.node] = busiest

    def status(self):
        """The one-line status."""
        o = self.tally.outcome()
        decided = self.tally.decisions.values()
        sorted_ = sum(1 for d in decided if d.get("target") is not None)
        rejected = sum(1 for d in decided if d.get("target") is None)
        belt = self.belt.latest
        p50 = percentile(self.tally.latencies[-200:], 50)
        io = (self.io_status.latest.values if self.io_status.latest else {}).get("state", "?")
        parts = [
            "t %5.1fs" % (self.now() - self.started),
            "seen %d" % len(decided),
            "sorted %d" % sorted_,
            "rejected %d" % rejected,
            "errors %d" % (o["wrong_bin"] + o["jams"]),
        ]
        if o["accuracy"] is not None:
            parts.append("accuracy %.1f%%" % (100 * o["accuracy"]))
        parts += [
            "belt %3.0f mm/s (%s)" % (belt.speed_mm_s if belt else 0.0, io),
            "camera %.0f fps" % self.rates.get("camera", 0.0),
            "detector %.0f fps" % self.rates.get("detector", 0.0),
            "latency %s" % ("%.0f ms" % p50 if p50 is not None else "-"),
        ]
        return " | ".join(parts)

    def show(self):
        line = self.status()
        if self.tty:
            sys.stdout.write("\r" + line[:200] + "\033[K")
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def report(self):
        """The run's report as a dict (docs/sorter.md lists the keys)."""
        elapsed = self.now() - self.started
        o = self.tally.outcome(self.items or None)
        reasons = collections.Counter(
            d.get("reason") for d in self.tally.decisions.values() if d.get("target") is None
        )
        missed = sum(1 for i in self.tally.decisions if i < 0)
        io = dict(self.io_status.latest.values) if self.io_status.latest else {}
        end_t = [r["end_t"] for r in (self.tally.truth or {}).get("items", []) if r["end_t"]]
        span = max(end_t) - min(end_t) if len(end_t) > 1 else 0.0
        return {
            "items": o["items"],
            "correct": o["correct"],
            "wrong_bin": o["wrong_bin"],
            "wrong_bin_timing": o["wrong_timing"],
            "rejected": o["rejected"],
            "jams": o["jams"],
            "missed": missed,
            "accuracy": o["accuracy"],
            "placed_accuracy": o["placed_accuracy"],
            "reject_reasons": dict((str(k), v) for k, v in reasons.items()),
            "throughput_per_min": 60.0 * (o["items"] - 1) / span if span > 0 else None,
            "latency_ms": self.latency(),
            "callback_ms": {n: t.ms() for n, t in sorted(self.callback_time.items())},
            "fps": dict(sorted(self.rates.items())),
            "io": io,
            "seconds": elapsed,
            "wall_seconds": time.monotonic() - self.wall0,
            "ground_truth": self.tally.truth is not None,
            "settings": self.settings,
        }

    def latency(self):
        detector = self.callback_time["detector"].ms() if "detector" in self.callback_time else None
        return latency(self.tally.latencies, detector, self.settings.get("realtime", True))

    def teardown(self):
        if self.reported:
            return
        self.reported = True
        report = self.report()
        if self.tty:
            sys.stdout.write("\n")
        sys.stdout.write(format_report(report) + "\n")
        if self.json:
            sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
        sys.stdout.flush()


def format_report(r):
    """The report for people."""

    def pct(x):
        return "-" if x is None else "%.2f%%" % (100 * x)

    def ms(x):
        return "-" if x is None else "%.1f" % x

    lat = r["latency_ms"]
    lines = [
        "sorter report: %d items in %.1f s (%.1f s wall)"
        % (r["items"], r["seconds"], r["wall_seconds"]),
        "  correct %d, wrong bin %d (timing %d), rejected %d, jams %d, missed by the camera %d"
        % (
            r["correct"],
            r["wrong_bin"],
            r["wrong_bin_timing"],
            r["rejected"],
            r["jams"],
            r["missed"],
        ),
        "  accuracy %s (items in their right bin); %s of the items put in a bin on purpose"
        % (pct(r["accuracy"]), pct(r["placed_accuracy"])),
        "  rejects: %s"
        % (", ".join("%s %d" % kv for kv in sorted(r["reject_reasons"].items())) or "none"),
        "  throughput %s items/min; latency frame -> decision p50 %s ms, p99 %s ms "
        "(detector %s ms per frame, the rest of the graph adds %s ms)"
        % (
            "%.1f" % r["throughput_per_min"] if r["throughput_per_min"] else "-",
            ms(lat["p50"]),
            ms(lat["p99"]),
            ms(lat["detector"]),
            ms(lat["added_p50"]),
        ),
        "  rates: %s" % ", ".join("%s %.1f/s" % kv for kv in r["fps"].items()),
    ]
    io = r["io"]
    if io:
        lines.append(
            "  io: %s; commands executed %s, late %s, refused %s; e-stops %s, watchdog stops %s"
            % tuple(
                io.get(k, "-")
                for k in ("state", "executed", "late", "refused", "estops", "watchdog")
            )
        )
    if not r["ground_truth"]:
        lines.append("  (no ground truth on real hardware: accuracy needs the simulation)")
    lines.append("  settings: %s" % json.dumps(r["settings"], sort_keys=True))
    return "\n".join(lines)
