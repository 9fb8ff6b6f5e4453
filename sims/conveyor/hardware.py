"""The adapter: a world wired to hal's simulated GPIO, I2C/PCA9685 and camera, by a wiring file.

    cell = SimCell(World(seed=1), clock=VirtualClock())    # hal.gpio.clock.VirtualClock
    cell.start()                                 # the world steps itself on the clock
    motor = hal.devices.Motor(...pins from cell.wiring..., factory=cell.gpio)
    pca = PCA9685(cell.i2c, address=cell.wiring.pca9685.address)
    camera = hal.camera.open("sim://conveyor")
    cell.clock.advance(5.0)                      # virtual time: 5 s of the cell, at once

What the program drives is observed on the simulated lines and chip and fed to the world
(motor PWM duty and IN1/IN2 -> belt; PCA9685 channel pulses or GPIO PWM -> servo targets;
LED); what the world produces is driven onto the input lines with the exact time of each edge
(encoder, beams, e-stop, start button). Code talks to "hardware" exactly as on the board.

Time: ``clock`` is any hal.gpio clock: a :class:`~hal.gpio.clock.VirtualClock` (tests: the
world steps in ``tick`` increments as the clock is advanced), a
:class:`~hal.gpio.clock.DrivenClock` reading a node graph's clock (the sorter's io node hosts
the cell that way, under either executor), or the wall clock (real time, to watch it run).
World time 0 is the clock's time at construction.
"""

import math
import threading
import time

import hal.camera
from hal.gpio.clock import VirtualClock, WallClock, as_clock
from hal.gpio.sim import SimFactory
from hal.i2c import SimI2CBus, register_bus, unregister_bus
from hal.pca9685 import SimPCA9685

from .wiring import load_wiring


class SimCell:
    """``world`` on simulated hardware wired as ``wiring`` says (default: wiring.yaml).

    ``gpio`` is the :class:`~hal.gpio.sim.SimFactory` to give devices (or install as the
    default with :func:`hal.gpio.set_default_factory`), ``i2c`` the bus holding the PCA9685
    (registered, so ``hal.i2c.open_bus(n, backend="sim")`` reaches it), ``pca9685`` the
    simulated chip; the camera is registered as ``sim://<camera>``. close() undoes both.
    ``events`` is the factory's: where edge callbacks run ("thread" or "settle").
    """

    def __init__(
        self, world, wiring=None, clock=None, camera="conveyor", tick=0.005, events="thread"
    ):
        self.world = world
        self.wiring = wiring if wiring is not None else load_wiring()
        n = len(world.paddles)
        if len(self.wiring.diverters) != n:
            raise ValueError(
                "the wiring (%s) has %d diverters but the world's cell has %d; make them agree"
                % (self.wiring.source, len(self.wiring.diverters), n)
            )
        self.clock = as_clock(clock if clock is not None else VirtualClock())
        self.t0 = self.clock()
        self.tick = tick
        self.lock = threading.RLock()
        self.gpio = SimFactory(self.wiring.board.key, clock=self.clock, events=events)
        self._inputs = {
            "encoder": self.wiring.encoder,
            "estop": self.wiring.estop,
            "start": self.wiring.start,
        }
        self._inputs.update(("beam%d" % i, p) for i, p in enumerate(self.wiring.beams))
        for signal, level in world.levels().items():
            self.gpio.line(self._inputs[signal]).drive(level)
        self._motor = {"duty": 0.0, "in1": 0, "in2": 0}
        self._pwm = {}  # diverter index -> (frequency, duty) of its GPIO PWM pin
        self._unsubscribe = [
            self._watch(self.wiring.motor.pwm, self._on_motor_pwm),
            self._watch(self.wiring.motor.in1, lambda c: self._on_direction("in1", c)),
            self._watch(self.wiring.motor.in2, lambda c: self._on_direction("in2", c)),
            self._watch(self.wiring.led, self._on_led),
        ]
        self._channels = {}
        for i, d in enumerate(self.wiring.diverters):
            if d.channel is not None:
                self._channels[d.channel] = i
            else:
                self._unsubscribe.append(
                    self._watch(d.pin, lambda c, i=i: self._on_servo_pin(i, c))
                )
        self.i2c = self.pca9685 = None
        if self.wiring.pca9685 is not None:
            self.i2c = SimI2CBus(self.wiring.pca9685.bus)
            self.pca9685 = self.i2c.attach(
                self.wiring.pca9685.address, SimPCA9685(clock=self.clock)
            )
            self.pca9685.watch(self._on_channel)
            register_bus(self.i2c)
        self.camera_name = camera
        self.feed = CameraFeed(self)
        hal.camera.sim.register(camera, self.feed)
        self._timer = None
        self._running = False

    # -- time -------------------------------------------------------------------------------

    @property
    def now(self):
        """The world's time on the cell's clock (seconds since the cell was made)."""
        return self.clock() - self.t0

    def sync(self):
        """Step the world up to the clock's time, driving every input edge onto its line."""
        with self.lock:
            dt = self.now - self.world.t
            if dt > 0:
                for edge in self.world.step(dt):
                    self.gpio.line(self._inputs[edge.signal]).drive(edge.level, edge.t + self.t0)

    def start(self):
        """Let the world follow the clock: step every ``tick`` seconds of it (a timer)."""
        self._running = True
        self._schedule()

    def stop(self):
        self._running = False
        if self._timer is not None:
            self._timer.cancel()

    def close(self):
        """Stop, unregister the camera and release the simulated pins."""
        self.stop()
        hal.camera.sim.unregister(self.camera_name)
        if self.i2c is not None:
            unregister_bus(self.i2c)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.gpio.close()

    def _schedule(self):
        if self._running:
            self._timer = self.clock.call_later(self.tick, self._tick)

    def _tick(self):
        self.sync()
        self._schedule()

    # -- a person at the bench ------------------------------------------------------------

    def press_estop(self):
        with self.lock:
            self.sync()
            self.world.press_estop()
            self.sync_now()

    def reset_estop(self):
        with self.lock:
            self.sync()
            self.world.reset_estop()
            self.sync_now()

    def press_start(self, pressed=True):
        with self.lock:
            self.sync()
            self.world.press_start(pressed)
            self.sync_now()

    def sync_now(self):
        """Drive the edges caused since the last step (buttons) onto their lines."""
        with self.lock:
            for edge in self.world.step(0.0):
                self.gpio.line(self._inputs[edge.signal]).drive(edge.level, edge.t + self.t0)

    # -- what the program drives ------------------------------------------------------------

    def _watch(self, pin, callback):
        return self.gpio.line(pin).subscribe(callback)

    def _on_motor_pwm(self, change):
        if change.kind == "duty_cycle":
            self._motor["duty"] = change.value
        elif change.kind == "state":  # driven as a plain output: full on or off
            self._motor["duty"] = float(change.value)
        self._apply_motor()

    def _on_direction(self, pin, change):
        if change.kind == "state":
            self._motor[pin] = change.value
            self._apply_motor()

    def _apply_motor(self):
        m = self._motor
        direction = {(1, 0): 1, (0, 1): -1}.get((m["in1"], m["in2"]), 0)  # else: brake
        with self.lock:
            self.sync()
            self.world.set_motor(m["duty"], direction)

    def _on_led(self, change):
        if change.kind == "state":
            with self.lock:
                self.world.set_led(change.value)

    def _on_channel(self, change):
        diverter = self._channels.get(change.channel)
        if diverter is not None:
            self._servo(diverter, change.output.pulse_us)

    def _on_servo_pin(self, diverter, change):
        frequency, duty = self._pwm.get(diverter, (50.0, 0.0))
        if change.kind == "frequency":
            frequency = change.value
        elif change.kind == "duty_cycle":
            duty = change.value
        else:
            return
        self._pwm[diverter] = (frequency, duty)
        self._servo(diverter, duty / frequency * 1e6 if frequency else 0.0)

    def _servo(self, diverter, pulse_us):
        with self.lock:
            self.sync()
            self.world.set_servo(diverter, pulse_us)


class CameraFeed:
    """The world's camera as a hal sim camera source (``sim://conveyor``): one frame per
    frame period of the cell's clock, stamped on that clock. On the wall clock read() waits
    for the next frame; on any other clock (virtual, or driven by a graph) it returns None
    until the clock has reached it. A frame is due SLACK early: a reader on a timer of whole
    nanoseconds (1/30 s is 33333333 ns) gets every frame, at its own times."""

    SLACK = 1e-6

    def __init__(self, cell):
        self.cell = cell
        self.period = 1.0 / cell.world.cell.camera.fps
        self._next = 0.0

    def __repr__(self):
        return "<conveyor camera %dx%d at %g fps>" % (
            self.cell.world.cell.camera.width,
            self.cell.world.cell.camera.height,
            1 / self.period,
        )

    def read(self):
        cell = self.cell
        blocking = isinstance(cell.clock, WallClock)
        wait = self._next - cell.now
        if wait > self.SLACK:
            if not blocking:
                return None
            time.sleep(wait)  # pacing a real-time camera, as a real one paces its caller
        with cell.lock:
            cell.sync()
            now = cell.world.t
            self._next = (math.floor((now + self.SLACK) / self.period) + 1) * self.period
            image = cell.world.render()
        if image is None:
            return None  # a dropped frame (fault)
        return image, None if blocking else round((now + cell.t0) * 1e9)
