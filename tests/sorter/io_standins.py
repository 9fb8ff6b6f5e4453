"""Nodes that stand in for the sorter's brain when the io node is tested on its own."""

from apps.sorter.io import KEEPALIVE, IONode
from apps.sorter.msgs import BeltState, DiverterCommand
from nanobot import msgs
from nanobot.node import Input, Node, Output, Param


class ScriptedScheduler(Node):
    """Stands in for the scheduler: sends a keepalive every `keepalive` s except in the
    `silent` window [from, to) (s, graph time), and each command [send_s, diverter, extend_s,
    retract_s] at send_s (times in seconds from the start)."""

    commands = Output(DiverterCommand)
    keepalive = Param(0.25)
    silent = Param([], help="[from_s, to_s): no keepalives then")
    script = Param([])

    def setup(self):
        self.every(self.keepalive, self._keepalive)
        self._keepalive()
        for i, (send, diverter, extend, retract) in enumerate(self.script):
            cmd = DiverterCommand(
                diverter=int(diverter),
                extend_at=round(extend * 1e9),
                retract_at=round(retract * 1e9),
                item_id=i,
            )
            self.after(send - self.now(), lambda c=cmd: self.commands.publish(c))

    def _keepalive(self):
        if not self.silent or not self.silent[0] <= self.now() < self.silent[1]:
            self.commands.publish(DiverterCommand(diverter=KEEPALIVE))


class CellWatcher(Node):
    """Stands in for the brain under the process executor: counts frames and belt states and,
    once it has `frames` of each, writes what it saw to `path` and asks the graph to stop."""

    image = Input(msgs.Image)
    belt = Input(BeltState)
    path = Param("")
    frames = Param(10)

    def setup(self):
        self.images, self.belts = [], []

    def on_image(self, msg):
        self.images.append((msg.frame_id, msg.stamp, msg.data.shape, int(msg.data.mean())))
        self._check()

    def on_belt(self, msg):
        self.belts.append((msg.stamp, msg.speed_mm_s, msg.position_mm, msg.running))
        self._check()

    def _check(self):
        if len(self.images) >= self.frames and len(self.belts) >= self.frames:
            import json

            with open(self.path, "w") as f:
                json.dump({"images": self.images, "belts": self.belts}, f)
            self.request_shutdown("saw %d frames and belt states" % self.frames)


class HeldUpIONode(IONode):
    """The io node as on a loaded CPU: the one-shot timers it sets from `held_from_s` on (its
    commands' extend and retract) fire `hold_s` late, as when its process was held up."""

    hold_s = Param(0.05)
    held_from_s = Param(0.0)

    def after(self, delay, callback):
        if self.now() >= self.held_from_s:
            delay += self.hold_s
        return super().after(delay, callback)


class PreemptedIONode(IONode):
    """The io node as on a loaded CPU: `lag_s` passes between each input scan and whatever
    the callback does after it (its thread was preempted there), as its own clock reads."""

    lag_s = Param(0.03)

    def _scan(self):
        self._lag_ns = 0
        super()._scan()
        self._lag_ns = round(self.lag_s * 1e9)

    def now_ns(self):
        return super().now_ns() + getattr(self, "_lag_ns", 0)


class SkippingIONode(IONode):
    """The io node held up (as on a loaded CPU) at every command for the diverters in `held`:
    their timers fire `hold_s` late, more than `late_s`, so it skips those extensions and the
    items they were for ride on past the paddle."""

    held = Param([0])
    hold_s = Param(0.05)

    def on_commands(self, cmd):
        self._holding = cmd.diverter in self.held
        try:
            super().on_commands(cmd)
        finally:
            self._holding = False

    def after(self, delay, callback):
        return super().after(
            delay + (self.hold_s if getattr(self, "_holding", False) else 0), callback
        )
