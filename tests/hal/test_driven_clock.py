"""DrivenClock: time read from another clock, timers run when its owner says."""

from hal.gpio import DrivenClock


def test_time_is_the_source_and_timers_run_in_order_when_driven():
    now = [10.0]
    clock = DrivenClock(lambda: now[0])
    ran = []
    clock.call_later(0.2, lambda: ran.append(("b", clock())))
    clock.call_later(0.1, lambda: ran.append(("a", clock())))
    assert clock() == 10.0
    now[0] = 10.15
    assert ran == []  # nothing runs until the owner drives it
    assert clock.run_due() == 1
    assert ran == [("a", 10.15)]
    now[0] = 11.0
    clock.call_later(0.0, lambda: ran.append(("c", clock())))
    assert clock.run_due() == 2
    assert [name for name, _ in ran] == ["a", "b", "c"]


def test_a_cancelled_timer_does_not_run():
    now = [0.0]
    clock = DrivenClock(lambda: now[0])
    ran = []
    clock.call_later(0.1, lambda: ran.append(1)).cancel()
    now[0] = 1.0
    assert clock.run_due() == 0 and ran == []
