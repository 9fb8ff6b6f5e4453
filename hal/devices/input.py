"""Inputs: DigitalInput (break-beam, limit switch, e-stop) and Button (pressed, released, held).

Callbacks run on the GPIO backend's event thread, take no arguments, and must return quickly.
"""

import threading

from hal.devices.device import Device

__all__ = ["Button", "DigitalInput"]


class DigitalInput(Device):
    """An on/off input. ``active_low=True`` when "active" pulls the line low: a switch to GND,
    an open-collector break-beam receiver whose beam is broken. A normally-closed e-stop
    between the pin and GND reads low while healthy and high when pressed or when its wire
    breaks: ``active_low=False``, so "active" means "stop" (see docs/hal.md).

    ``pull``: "up", "down", None (an external resistor does it), or "auto": the internal pull
    matching ``active_low`` where the board has one (Raspberry Pi), None elsewhere (Jetson:
    user space cannot set pulls, so wire a resistor). ``bounce_time`` in seconds.
    """

    def __init__(self, pin, active_low=False, pull="auto", bounce_time=None, factory=None):
        super().__init__(factory)
        self.active_low = active_low
        self.when_activated = None
        self.when_deactivated = None
        self._changed = threading.Condition()
        if pull == "auto":
            pull = (
                ("up" if active_low else "down") if self.factory.board.pull_configurable else None
            )
        with self._building():
            self.pin = self._pin(pin, "input", pull=pull, bounce=bounce_time or 0.0)
            self.pin.when_changed = self._pin_changed

    @property
    def value(self):
        """1 when active, 0 when not."""
        self._check_open()
        return int(bool(self.pin.state) != self.active_low)

    @property
    def is_active(self):
        return bool(self.value)

    def _pin_changed(self, state, t):
        active = bool(state) != self.active_low
        with self._changed:
            self._changed.notify_all()
        self._on_change(active, t)

    def _on_change(self, active, t):
        callback = self.when_activated if active else self.when_deactivated
        if callback is not None:
            callback()

    def wait_for_active(self, timeout=None):
        """Block until active: True, or False if ``timeout`` seconds pass first."""
        return self._wait_for(True, timeout)

    def wait_for_inactive(self, timeout=None):
        return self._wait_for(False, timeout)

    def _wait_for(self, active, timeout):
        with self._changed:
            return self._changed.wait_for(lambda: self.is_active == active, timeout)


class Button(DigitalInput):
    """A push button, by default wired between the pin and GND (``active_low=True``).

    ``when_pressed``, ``when_released`` and ``when_held`` (after ``hold_time`` seconds held,
    every ``hold_time`` again with ``hold_repeat``) are callables taking no arguments.
    """

    def __init__(
        self,
        pin,
        active_low=True,
        pull="auto",
        bounce_time=0.02,
        hold_time=1.0,
        hold_repeat=False,
        factory=None,
    ):
        self.hold_time = hold_time
        self.hold_repeat = hold_repeat
        self.when_held = None
        self._hold_timer = None
        self.held = False
        super().__init__(pin, active_low, pull, bounce_time, factory)

    when_pressed = property(
        lambda self: self.when_activated, lambda self, f: setattr(self, "when_activated", f)
    )
    when_released = property(
        lambda self: self.when_deactivated, lambda self, f: setattr(self, "when_deactivated", f)
    )

    @property
    def is_pressed(self):
        return self.is_active

    @property
    def is_held(self):
        return self.held

    def wait_for_press(self, timeout=None):
        return self.wait_for_active(timeout)

    def wait_for_release(self, timeout=None):
        return self.wait_for_inactive(timeout)

    def _on_change(self, active, t):
        with self._lock:
            if self._hold_timer is not None:
                self._hold_timer.cancel()
                self._hold_timer = None
            self.held = False
            if active:
                self._hold_timer = self.factory.clock.call_later(self.hold_time, self._hold)
        super()._on_change(active, t)

    def _hold(self):
        with self._lock:
            if self.closed or self._hold_timer is None:
                return
            self.held = True
            repeat = self.hold_repeat
            self._hold_timer = (
                self.factory.clock.call_later(self.hold_time, self._hold) if repeat else None
            )
        if self.when_held is not None:
            self.when_held()

    def _shutdown(self):
        with self._lock:
            if self._hold_timer is not None:
                self._hold_timer.cancel()
                self._hold_timer = None
