"""The HC-SR04 ultrasonic distance sensor, and its simulated twin for the sim backend.

The sensor answers a >= 10 us trigger pulse with an echo pulse as long as the sound's round
trip. Echo edges are timestamped by the GPIO backend's clock, so the measurement does not depend
on how fast Python reacts. The HC-SR04 is a 5 V part: put a divider (e.g. 1k/2k) on ECHO.
"""

import threading
import time

from hal.devices.device import Device

__all__ = ["SPEED_OF_SOUND", "DistanceSensor", "SimHCSR04"]

SPEED_OF_SOUND = 343.0  # m/s in air at 20 degrees C
TRIGGER_PULSE = 10e-6  # s, the datasheet's minimum
ECHO_DELAY = 0.45e-3  # s from trigger to echo rising (the 8-cycle 40 kHz burst and more)
NO_ECHO_PULSE = 38e-3  # s, the echo width the module gives when nothing answers


class DistanceSensor(Device):
    """An HC-SR04 on ``echo`` (input) and ``trigger`` (output) pins.

    ``distance`` measures now, in metres, clamped to ``max_distance`` (also what is returned
    when no echo comes back in time: nothing in range).
    """

    def __init__(self, echo, trigger, max_distance=4.0, factory=None):
        super().__init__(factory)
        self.max_distance = max_distance
        self._rise = None
        self._fall = threading.Event()
        self._width = None
        with self._building():
            self.trigger = self._pin(trigger, "output")
            self.echo = self._pin(echo, "input")
            self.echo.when_changed = self._echo_changed

    def _echo_changed(self, state, t):
        if state:
            self._rise = t
        elif self._rise is not None:
            self._width = t - self._rise
            self._fall.set()

    @property
    def distance(self):
        return self.measure()

    def measure(self, timeout=None):
        """One measurement in metres; waits at most ``timeout`` s (default: the range's echo)."""
        self._check_open()
        with self._lock:
            self._rise, self._width = None, None
            self._fall.clear()
            self.trigger.state = 1
            time.sleep(TRIGGER_PULSE)
            self.trigger.state = 0
            wait = timeout if timeout is not None else NO_ECHO_PULSE + 0.05
            if not self._fall.wait(wait):
                return self.max_distance
            return min(self._width * SPEED_OF_SOUND / 2.0, self.max_distance)


class SimHCSR04:
    """The simulated HC-SR04: answers each trigger pulse on the sim backend with an echo pulse
    for ``distance`` metres (None: nothing in range), timed on the factory's clock.

    ``SimHCSR04(factory, echo=18, trigger=16, distance=0.25)``; change ``distance`` at will.
    """

    def __init__(self, factory, echo, trigger, distance=1.0):
        self.distance = distance
        self._trigger_level = None
        self._echo = factory.line(echo)
        self._unsubscribe = factory.line(trigger).subscribe(self._trigger_changed)

    def _trigger_changed(self, change):
        if change.kind != "state":
            return
        falling = self._trigger_level == 1 and change.value == 0
        self._trigger_level = change.value
        if not falling:
            return
        width = NO_ECHO_PULSE if self.distance is None else 2.0 * self.distance / SPEED_OF_SOUND
        rise = change.t + ECHO_DELAY
        self._echo.drive_high(rise)
        self._echo.drive_low(rise + width)

    def close(self):
        self._unsubscribe()
