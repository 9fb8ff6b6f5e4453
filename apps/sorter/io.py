"""IONode: the one node that owns the sorting cell's hardware, and its safety.

    io:
      class: apps.sorter.io:IONode
      group: cell                      # the camera joins this group in simulation
      params: {hal: auto, speed_mm_s: 150, watchdog_s: 1.0}

Built from the wiring file (sims/conveyor/wiring.yaml format): belt motor on an H-bridge,
encoder, one break-beam per diverter, e-stop, start button, status LED, diverter servos on
GPIO PWM pins or PCA9685 channels. It publishes the belt as measured by the encoder
(BeltState on `belt`, `belt_rate` times a second), every beam edge (GpioEvent on `beams`,
named beam0.., stamped with the edge's time) and its own state (KeyValue on `io/status`); it
executes DiverterCommands on its own clock and holds the belt at `speed_mm_s`.

Safety lives here, whatever the other nodes do:

- E-stop (latching, line low = stop): at the first tick that sees it (every `tick` s) the
  motor is switched off and every paddle retracted; pending commands are dropped and new ones
  refused. Releasing the e-stop does not restart the belt: the start button does.
- Watchdog: the scheduler must be heard on `commands` (a DiverterCommand, or a keepalive
  with diverter -1) at least every `watchdog_s`; when it falls silent the belt stops and the
  paddles retract; the belt restarts by itself when the scheduler is heard again (a
  scheduler restart needs no person). The belt does not start before it is first heard.
- Late extensions: a paddle that comes out after the item has reached it does not turn the
  item, it hits it (a jam). When the node gets to an extension more than `late_s` after its
  time (its process was held up: a loaded CPU), it skips it, unless the paddle is out already
  for another window; the item goes on to the reject bin, and the skip is counted as `late`.
- Teardown (any shutdown, SIGINT/SIGTERM included): belt stopped, paddles retracted, servos
  detached, LED off, every line and the PCA9685 released.

With `hal: sim` (or auto on a machine that is not a board) this node hosts the simulated
cell (sims.conveyor) in its process: it builds a SimCell in setup(), seeded by `seed` and
shaped by `sim`, registers its camera as sim://conveyor and its I2C bus, and steps the world
on the graph clock (virtual under the simulation executor, real under the process executor).
The camera node must then run in this node's process: same group, after it in the graph
file. The world's ground truth is published on `cell/truth` and is `node.cell.world.truth`.
"""

import os
import time

import hal.gpio
from hal.gpio import DrivenClock
from hal.i2c import open_bus
from hal.platform import detect
from nanobot.msgs import GpioEvent, KeyValue
from nanobot.node import Input, Node, Output, Param
from sims.conveyor import Cell, Faults, World
from sims.conveyor.hardware import SimCell
from sims.conveyor.wiring import load_wiring

from .belt import Odometer, SpeedController
from .hardware import CellHardware
from .msgs import BeltState, DiverterCommand

__all__ = ["KEEPALIVE", "IONode"]

#: DiverterCommand.diverter of a keepalive: "the scheduler is alive", no actuation.
KEEPALIVE = -1

RUNNING, WAITING, WATCHDOG, ESTOP, IDLE = "running", "waiting", "watchdog", "estop", "idle"


class IONode(Node):
    """Owns the cell's hardware: see the module docstring."""

    commands = Input(DiverterCommand, keep_all=1000)
    belt = Output(BeltState)
    beams = Output(GpioEvent)
    status = Output(KeyValue, topic="io/status")
    truth = Output(KeyValue, topic="cell/truth")

    wiring = Param("", help="wiring file (default: the shipped sims/conveyor/wiring.yaml)")
    hal = Param("auto", choices=("auto", "sim", "jetson", "rpi"),
                help="GPIO/I2C backend; sim hosts the simulated cell")  # fmt: skip
    speed_mm_s = Param(150.0, min=0.0, help="belt speed set point, mm/s")
    autostart = Param(True, help="run at start without the start button")
    watchdog_s = Param(1.0, min=0.0, help="stop the belt when the scheduler is silent this "
                       "long (0: no watchdog)")  # fmt: skip
    late_s = Param(0.02, min=0.0, help="skip an extension reached later than this after its "
                   "time: the paddle would hit the item (the scheduler's margin_s)")  # fmt: skip
    tick = Param(0.005, min=0.001, help="seconds between input scans (and world steps)")
    belt_rate = Param(50.0, min=1.0, help="BeltState messages (and speed loop runs) per second")
    mm_per_pulse = Param(2.0, min=0.001, help="belt travel per encoder pulse, mm")
    motor_max_speed = Param(250.0, min=1.0, help="belt speed at full duty, mm/s (calibration)")
    motor_deadband = Param(0.1, min=0.0, max=0.9, help="duty below which the motor stands")
    kp = Param(0.001, min=0.0, help="speed loop: duty per mm/s of error")
    ki = Param(0.004, min=0.0, help="speed loop: duty per mm of accumulated error")
    beam_debounce_s = Param(0.002, min=0.0, help="software debounce of the beams, s")
    seed = Param(0, help="simulation: the world's seed")
    sim = Param({}, help="simulation: {cell: {Cell fields}, faults: {Faults fields} or "
                "'name=value,...', camera: sim camera name (conveyor)}")  # fmt: skip
    truth_period = Param(0.5, min=0.01, help="simulation: seconds between cell/truth messages")

    # -- setup -------------------------------------------------------------------------------

    @classmethod
    def pins(cls, params):
        """The header pins of the wiring file, and the I2C pins of its PCA9685's bus."""
        wiring = load_wiring(params["wiring"] or None)
        used = {pin: entry for entry, pin in wiring.pins().items()}
        if wiring.pca9685 is not None:
            for number, pin in wiring.board.pins.items():
                if pin.i2c is not None and pin.i2c[0] == wiring.pca9685.bus:
                    used[number] = "PCA9685 %s" % pin.i2c[1]
        return used

    def setup(self):
        self.state = None
        self.scanned_ns = None  # the time of the newest input scan
        self.counts = dict(executed=0, late=0, refused=0, invalid=0, estops=0, watchdog=0)
        self.cell = None
        self._previous_factory = None
        self._timers = []  # extend/retract timers of accepted commands
        self._accepted = []  # commands being executed: (diverter, extend_at, retract_at, item)
        self._heard_ns = None
        self._armed = bool(self.autostart)
        self._estop_latched = False
        self._last_loop_ns = None
        self._finished = 0
        wiring = load_wiring(self.wiring or None)
        self.clock = DrivenClock(self.now)
        backend = self._backend()
        self.log.info("hardware: %s backend, wiring %s", backend, wiring.source)
        if backend == "sim":
            self.cell = self._host_world(wiring)
            factory, bus_backend, sleep = self.cell.gpio, "sim", lambda s: None
            self._previous_factory = hal.gpio.set_default_factory(factory)
        else:
            factory = hal.gpio.get_factory(backend, board=wiring.board.key, clock=self.clock)
            bus_backend, sleep = "smbus2", time.sleep
        bus = open_bus(wiring.pca9685.bus, bus_backend) if wiring.pca9685 is not None else None
        try:
            self.hw = CellHardware(wiring, factory, bus, self.beam_debounce_s, sleep)
        except BaseException:
            if bus is not None:
                bus.close()
            raise
        self.odometer = Odometer(self.mm_per_pulse)
        self.speed = SpeedController(self.motor_max_speed, self.motor_deadband, self.kp, self.ki)
        self._scan()
        self.every(self.tick, self._scan)
        self.every(1.0 / self.belt_rate, self._belt_loop)
        self.every(0.5, self._publish_status)
        if self.cell is not None:
            self.every(self.truth_period, self._publish_truth)

    def _backend(self):
        if self.hal != "auto":
            return self.hal
        chosen = os.environ.get("NANOBOT_HAL", "auto").lower()
        if chosen != "auto":
            return chosen
        board = detect().name
        if board is None:
            return "sim"
        return "rpi" if board.startswith("rpi") else "jetson"

    def _host_world(self, wiring):
        options = dict(self.sim or {})
        unknown = set(options) - {"cell", "faults", "camera"}
        if unknown:
            raise ValueError(
                "param sim of node %r has no key %s; use cell, faults, camera"
                % (self.name, ", ".join(sorted(unknown)))
            )
        cell = Cell().replace(**_tuples(options.get("cell") or {}))
        faults = options.get("faults") or {}
        faults = Faults.parse(faults) if isinstance(faults, str) else Faults(**_tuples(faults))
        world = World(cell, seed=self.seed, faults=faults)
        sim = SimCell(
            world,
            wiring,
            clock=self.clock,
            camera=options.get("camera", "conveyor"),
            # one thread runs every node on a virtual clock: edges reach their callbacks when
            # the scan takes them, with no thread switch per edge
            events="settle" if self._runtime.clock.virtual else "thread",
        )
        self.log.info(
            "hosting the simulated cell (seed %d) with camera sim://%s", self.seed, sim.camera_name
        )
        return sim

    # -- the scan: world, inputs, safety -------------------------------------------------------

    def _scan(self):
        """Bring the world (in simulation) and the inputs up to now, then apply safety.

        `scanned_ns` is the time the inputs are known up to: what the belt is measured at.
        """
        self.scanned_ns = self.now_ns()
        if self.cell is not None:
            self.cell.sync()
        self.clock.run_due()
        for t, name, level in self.hw.take_edges():
            if name == "encoder":
                self.odometer.pulse(t)
            elif name == "estop":
                if level == 0:
                    self._estop_latched = True
            elif name == "start":
                if level == 0:
                    self._start_pressed()
            else:
                pin = self.hw.wiring.beams[int(name[4:])]
                stamp = round(t * 1e9)
                self.beams.publish(GpioEvent(pin=pin, level=level, stamp=stamp, name=name), stamp)
        if self.hw.estop.is_active:
            self._estop_latched = True
        self._update_state()
        if self.cell is not None:
            self._publish_truth_on_change()

    def _start_pressed(self):
        if self.hw.estop.is_active:
            self.log.warning("start pressed while the e-stop is still pressed: ignored")
            return
        if self._estop_latched:
            self.log.info("start pressed: e-stop cleared")
        self._estop_latched = False
        self._armed = True

    def _alive(self):
        if not self.watchdog_s:
            return True
        return self._heard_ns is not None and (
            self.now_ns() - self._heard_ns <= round(self.watchdog_s * 1e9)
        )

    def _update_state(self):
        if self._estop_latched:
            state = ESTOP
        elif not self._armed:
            state = IDLE
        elif not self._alive():
            state = WAITING if self._heard_ns is None else WATCHDOG
        else:
            state = RUNNING
        if state != self.state:
            self._enter(state)

    def _enter(self, state):
        previous, self.state = self.state, state
        if state != RUNNING:
            self.hw.motor.stop()
            self._cancel_commands()
            self.hw.retract_all()
            self.speed.reset()
        if state == ESTOP:
            self.counts["estops"] += 1
            self.log.warning(
                "E-STOP: belt stopped, paddles retracted; release it, then press start"
            )
            self.hw.led.blink(0.1, 0.1)
        elif state == WATCHDOG:
            self.counts["watchdog"] += 1
            self.log.warning(
                "watchdog: no word from the scheduler for %g s; belt stopped, paddles "
                "retracted until it is heard again", self.watchdog_s
            )  # fmt: skip
            self.hw.led.blink(0.5, 0.5)
        elif state in (WAITING, IDLE):
            self.log.info(
                "belt held: %s",
                "waiting for the scheduler" if state == WAITING else "press start",
            )
            self.hw.led.blink(0.5, 0.5)
        else:
            self.log.info("belt running at %g mm/s (was %s)", self.speed_mm_s, previous)
            self.hw.led.on()
            self.hw.motor.value = self.speed.feedforward(self.speed_mm_s)
        self._publish_status()

    # -- the belt --------------------------------------------------------------------------

    def _belt_loop(self):
        """Run the speed loop and publish the belt as measured (belt_rate times a second).

        The belt is measured, and stamped, at the time of the scan that read the encoder, not
        at the time of the publish: a node held up between the two (a loaded CPU) would
        otherwise report the pulses of the scan as if none had come since, so a speed that
        falls as 1/gap and a position that lags, and its speed loop would push the motor to
        make up for a slowdown that never was (the kill tests saw 102 mm/s reported and the
        belt driven to 150 mm/s, at a set point of 140, on a loaded 2-core machine).
        """
        self._scan()
        now_ns = self.scanned_ns
        now = now_ns / 1e9
        dt = 0.0 if self._last_loop_ns is None else (now_ns - self._last_loop_ns) / 1e9
        self._last_loop_ns = now_ns
        speed = self.odometer.speed(now)
        running = self.state == RUNNING
        if running:
            self.hw.motor.value = self.speed.duty(self.speed_mm_s, speed, dt)
        self.belt.publish(
            BeltState(
                stamp=now_ns,
                speed_mm_s=speed,
                position_mm=self.odometer.position(now),
                running=running,
                estop=self.state == ESTOP,
            ),
            now_ns,
        )

    # -- diverter commands -----------------------------------------------------------------

    def on_commands(self, cmd):
        self._heard_ns = self.now_ns()
        self._scan()  # the watchdog may release the belt; an e-stop may have come meanwhile
        if cmd.diverter == KEEPALIVE:
            return
        now = self.now_ns()
        if not 0 <= cmd.diverter < len(self.hw.servos) or cmd.retract_at <= cmd.extend_at:
            self._refuse("invalid", cmd, "diverters are 0..%d and retract_at must follow "
                         "extend_at" % (len(self.hw.servos) - 1))  # fmt: skip
        elif self.state != RUNNING:
            self._refuse("refused", cmd, "the belt is held (%s)" % self.state)
        elif cmd.extend_at < now:
            self._refuse("late", cmd, "its extend time passed %.1f ms ago"
                         % ((now - cmd.extend_at) / 1e6))  # fmt: skip
        else:
            entry = (cmd.diverter, cmd.extend_at, cmd.retract_at, cmd.item_id)
            self._accepted.append(entry)
            self._timers = [t for t in self._timers if t.due_ns >= now and not t.cancelled]
            for kind, at in (("extend", cmd.extend_at), ("retract", cmd.retract_at)):
                action = lambda k=kind, e=entry: self._act(k, e)  # noqa: E731
                self._timers.append(self.after((at - now) / 1e9, action))

    def _refuse(self, reason, cmd, why):
        self.counts[reason] += 1
        self.log.warning(
            "diverter command for item %d (diverter %d) refused: %s",
            cmd.item_id, cmd.diverter, why
        )  # fmt: skip

    def _act(self, kind, entry):
        self._scan()
        if self.state != RUNNING:
            return
        diverter, extend_at = entry[0], entry[1]
        now = self.now_ns()
        if kind == "extend":
            late_ns = now - extend_at
            out_already = any(
                d == diverter and a < extend_at < b for d, a, b, _ in self._accepted
            )  # another window of this paddle began before this one and is open
            if late_ns > round(self.late_s * 1e9) and not out_already:
                self._accepted.remove(entry)  # it holds the paddle out for no other window
                self.counts["late"] += 1
                self.log.warning(
                    "diverter %d: extension for item %d skipped, %.0f ms late (the node was "
                    "held up): the paddle would hit the item, which goes on to reject",
                    diverter, entry[3], late_ns / 1e6
                )  # fmt: skip
                return
            self.hw.extend(diverter)
            self.counts["executed"] += 1
            return
        if entry not in self._accepted:
            return  # its extension was skipped
        self._accepted.remove(entry)
        if not any(d == diverter and a <= now < b for d, a, b, _ in self._accepted):
            self.hw.retract(diverter)  # unless the next item's window already began

    def _cancel_commands(self):
        for timer in self._timers:
            timer.cancel()
        self._timers = []
        self._accepted = []

    # -- reports ---------------------------------------------------------------------------

    def _publish_status(self):
        values = dict(self.counts, state=self.state, speed_setpoint=self.speed_mm_s)
        values["pending"] = len(self._accepted)
        self.status.publish(KeyValue(values=values))

    def _publish_truth_on_change(self):
        finished = self.cell.world.truth.finished_count  # each scan: not len(finished())
        if finished != self._finished:
            self._finished = finished
            self._publish_truth()

    def _publish_truth(self):
        self.truth.publish(KeyValue(values=truth_values(self.cell)))

    # -- teardown --------------------------------------------------------------------------

    def teardown(self):
        hw = getattr(self, "hw", None)
        if hw is not None:
            hw.motor.stop()
            hw.retract_all()
            if not self._runtime.clock.virtual:
                time.sleep(hw.servo_spec.seconds_per_60deg * hw.servo_spec.extended_deg / 60.0)
            hw.close()
        if self.cell is not None:
            self.cell.close()
        if self._previous_factory is not None or self.cell is not None:
            hal.gpio.set_default_factory(self._previous_factory)


def truth_values(cell):
    """The simulated cell's ground truth as plain values (the `cell/truth` message).

    Times are world seconds; add t0_ns (graph clock of world time 0) for graph time."""
    world = cell.world
    items = [
        {
            "id": r.id,
            "cls": r.cls,
            "spawn_t": r.spawn_t,
            "size": r.size,
            "beams": {str(k): v for k, v in r.beams.items()},
            "bin": r.bin,
            "reason": r.reason,
            "end_t": r.end_t,
        }
        for r in world.truth.items.values()
    ]
    c = world.cell
    return {
        "t0_ns": round(cell.t0 * 1e9),
        "world_t": world.t,
        "summary": world.truth.summary(),
        "items": items,
        "calibration": world.calibration.as_dict(),
        "diverters_mm": list(c.diverters),
        "beams_mm": list(c.beams),
        "belt_length_mm": c.belt_length,
        "mm_per_pulse": c.mm_per_pulse,
    }


def _tuples(options):
    """Lists in a param dict as tuples (dataclass fields such as diverters are tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in options.items()}
