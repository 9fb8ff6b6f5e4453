"""The sorting cell's devices, built from its wiring description with hal's devices.

    hw = CellHardware(wiring, factory, i2c_bus)     # every part the wiring file names
    hw.motor.value = 0.6; hw.extend(0); hw.retract_all()
    for t, name, level in hw.take_edges(): ...      # beam, e-stop, start, encoder edges
    hw.close()                                      # belt stopped, servos detached, lines free

Input edges are recorded with their time on the factory's clock as the GPIO backend reports
them (on its event thread) and taken by the owner on its own thread, in time order.
"""

import threading
import time

from hal.devices import LED, AngularServo, DigitalInput, Motor, PulseCounter
from hal.pca9685 import PCA9685

__all__ = ["CellHardware"]


class CellHardware:
    """Motor, encoder, beams, e-stop, start button, LED and diverter servos of `wiring`.

    `factory` is the hal GPIO factory, `i2c_bus` an open bus for the PCA9685 (needed when the
    wiring puts diverters on one; closed here), `beam_debounce` seconds of software debounce
    on the beams, `sleep` how the PCA9685 driver waits for its oscillator.
    """

    def __init__(self, wiring, factory, i2c_bus=None, beam_debounce=0.002, sleep=time.sleep):
        self.wiring = wiring
        self.factory = factory
        self.servo_spec = wiring.servo
        self._edges = []
        self._lock = threading.Lock()
        self._devices = []  # in creation order; closed in reverse
        self.pca9685 = None
        self._bus = i2c_bus
        try:
            self._build(wiring, factory, i2c_bus, beam_debounce, sleep)
        except BaseException:
            self.close()
            raise

    def _build(self, w, factory, bus, debounce, sleep):
        self.motor = self._own(
            Motor(w.motor.in1, w.motor.in2, enable=w.motor.pwm, frequency=w.motor.frequency,
                  factory=factory)
        )  # fmt: skip
        self.encoder = self._own(PulseCounter(w.encoder, edge="rising", factory=factory))
        self._record(self.encoder, "encoder")
        self.beams = []
        for i, pin in enumerate(w.beams):
            beam = self._own(
                DigitalInput(pin, active_low=True, bounce_time=debounce, factory=factory)
            )
            self._record(beam, "beam%d" % i)
            self.beams.append(beam)
        self.estop = self._own(DigitalInput(w.estop, active_low=True, factory=factory))
        self._record(self.estop, "estop")
        self.start = self._own(DigitalInput(w.start, active_low=True, factory=factory))
        self._record(self.start, "start")
        self.led = self._own(LED(w.led, factory=factory))
        if w.pca9685 is not None and any(d.channel is not None for d in w.diverters):
            if bus is None:
                raise ValueError(
                    "the wiring (%s) puts diverters on a PCA9685 but no I2C bus was given"
                    % w.source
                )
            self.pca9685 = PCA9685(bus, w.pca9685.address, w.pca9685.frequency, sleep=sleep)
        s = self.servo_spec
        frame = 1.0 / (w.pca9685.frequency if w.pca9685 is not None else 50.0)
        self.servos = []
        for d in w.diverters:
            output = self.pca9685.channel(d.channel) if d.channel is not None else d.pin
            self.servos.append(
                self._own(
                    AngularServo(
                        output,
                        initial_angle=s.retracted_deg,
                        min_angle=0.0,
                        max_angle=s.range_deg,
                        min_pulse_width=s.min_pulse_us * 1e-6,
                        max_pulse_width=s.max_pulse_us * 1e-6,
                        frame_width=frame,
                        factory=factory,
                    )
                )
            )

    def _own(self, device):
        self._devices.append(device)
        return device

    def _record(self, device, name):
        """Log every edge `device`'s pin reports, with its time, for take_edges()."""
        pin = device.pin
        inner = pin.when_changed

        def changed(state, t):
            inner(state, t)
            with self._lock:
                self._edges.append((t, name, state))

        pin.when_changed = changed

    # -- inputs ------------------------------------------------------------------------------

    def take_edges(self):
        """[(t, name, level)] recorded since the last call, in time order."""
        settle = getattr(self.factory, "settle", None)
        if settle is not None:
            settle()  # the simulator: every edge driven so far has reached its callbacks
        with self._lock:
            edges, self._edges = self._edges, []
        edges.sort(key=lambda e: e[0])
        return edges

    # -- diverters ---------------------------------------------------------------------------

    def extend(self, diverter):
        self.servos[diverter].angle = self.servo_spec.extended_deg

    def retract(self, diverter):
        self.servos[diverter].angle = self.servo_spec.retracted_deg

    def retract_all(self):
        for i in range(len(self.servos)):
            self.retract(i)

    # -- release -----------------------------------------------------------------------------

    def close(self):
        """Stop the belt, retract and detach the servos, turn the LED off, release every
        line and the PCA9685 (all outputs off) and its bus. Safe to call twice."""
        motor = getattr(self, "motor", None)
        if motor is not None and not motor.closed:
            motor.stop()
        for servo in getattr(self, "servos", ()):
            if not servo.closed:
                servo.angle = self.servo_spec.retracted_deg
        for device in reversed(self._devices):
            device.close()  # servos detach (no pulses), outputs go low, pins are released
        self._devices = []
        if self.pca9685 is not None:
            self.pca9685.close()
            self.pca9685 = None
        if self._bus is not None:
            self._bus.close()
            self._bus = None
