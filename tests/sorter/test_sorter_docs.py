"""docs/sorter.md shows what the code does: the header diagram and the report's keys."""

import collections
import os

from apps.sorter.header import diagram
from apps.sorter.monitor import CallbackTime, MonitorNode, Tally
from sims.conveyor.wiring import load_wiring

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def doc():
    with open(os.path.join(ROOT, "docs", "sorter.md")) as f:
        return f.read()


def test_the_wiring_diagram_is_drawn_from_the_wiring_file():
    assert diagram(load_wiring()) in doc()


def test_every_report_key_is_documented():
    node = MonitorNode("monitor")  # not running: give it what setup() would, and a clock
    node.tally, node.rates, node.started, node.wall0 = Tally({}), {}, 0.0, 0.0
    node.callback_time = collections.defaultdict(CallbackTime)
    node.now = lambda: 0.0
    report = node.report()
    text = doc()
    missing = [k for k in report if "| `%s` |" % k not in text]
    assert not missing, "docs/sorter.md does not document report keys %s" % missing
    row = next(line for line in text.splitlines() if line.startswith("| `latency_ms` |"))
    missing = [k for k in report["latency_ms"] if "`%s`" % k not in row]
    assert not missing, "docs/sorter.md does not document latency_ms keys %s" % missing
