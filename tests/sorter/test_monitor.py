"""The monitor's tally: accuracy counts every item, rejects included."""

from apps.sorter.monitor import Tally


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
