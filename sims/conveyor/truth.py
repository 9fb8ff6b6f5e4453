"""Ground truth: what happened to every item, and the counts that make quality a number."""

import dataclasses
from typing import Dict, Optional

import numpy as np

from .shapes import CLASSES, DISTRACTOR

#: Why an item left the belt.
DIVERTED, FELL_THROUGH, JAMMED, RETURNED = "diverted", "fell through", "jammed", "returned"


@dataclasses.dataclass
class ItemRecord:
    """One item's life. ``bin`` is a diverter index, ``"reject"``, or None (no bin: jammed)."""

    id: int
    cls: str
    spawn_t: float
    size: float
    beams: Dict[int, float] = dataclasses.field(default_factory=dict)  #: beam -> first break, s
    bin: Optional[object] = None
    reason: Optional[str] = None  #: None while on the belt
    end_t: Optional[float] = None


class GroundTruth:
    """Records items as the world reports them; :meth:`summary` and :meth:`confusion` count."""

    def __init__(self, diverters):
        self.diverters = diverters
        self.items = {}  # id -> ItemRecord, in spawn order
        self.finished_count = 0  #: items that have left the belt (len(finished()), kept)

    # -- recording (the world calls these) --------------------------------------------------

    def spawned(self, item):
        self.items[item.id] = ItemRecord(item.id, item.cls, item.spawn_t, item.size)

    def beam(self, item_id, beam, t):
        self.items[item_id].beams.setdefault(beam, t)

    def ended(self, item_id, bin, reason, t):
        record = self.items[item_id]
        if record.reason is None:
            self.finished_count += 1
        record.bin, record.reason, record.end_t = bin, reason, t

    # -- reading ----------------------------------------------------------------------------

    @property
    def bins(self):
        """Column labels of :meth:`confusion`: diverter indices, "reject", then "none"."""
        return [*range(self.diverters), "reject", "none"]

    @property
    def classes(self):
        """Row labels of :meth:`confusion`: the classes, then "distractor"."""
        return [*CLASSES, DISTRACTOR]

    def finished(self):
        return [r for r in self.items.values() if r.reason is not None]

    def confusion(self):
        """Counts of finished items, rows :attr:`classes`, columns :attr:`bins`."""
        matrix = np.zeros((len(self.classes), len(self.bins)), int)
        for r in self.finished():
            column = self.bins.index("none" if r.bin is None else r.bin)
            matrix[self.classes.index(r.cls), column] += 1
        return matrix

    def summary(self):
        """Counts as a plain dict (JSON-ready)."""
        done = self.finished()
        per_class = {c: sum(1 for r in self.items.values() if r.cls == c) for c in self.classes}
        reasons = {}
        for r in done:
            reasons[r.reason] = reasons.get(r.reason, 0) + 1
        return {
            "items": len(self.items),
            "finished": len(done),
            "on_belt": len(self.items) - len(done),
            "per_class": per_class,
            "reasons": reasons,
            "bins": [str(b) for b in self.bins],
            "classes": self.classes,
            "confusion": self.confusion().tolist(),
        }

    def report(self):
        """The summary as a table for people."""
        s = self.summary()
        lines = [
            "items %d: %d finished, %d still on the belt; %s"
            % (
                s["items"],
                s["finished"],
                s["on_belt"],
                ", ".join("%s %d" % kv for kv in sorted(s["reasons"].items())) or "none finished",
            )
        ]
        header = "%-11s" % "class\\bin" + "".join("%8s" % b for b in s["bins"])
        lines.append(header)
        for cls, row in zip(s["classes"], s["confusion"]):
            lines.append("%-11s" % cls + "".join("%8d" % n for n in row))
        return "\n".join(lines)
