"""An oracle controller: sorts by reading the world's TRUE classes and positions.

It is no detector and no app: it cheats, to show what the cell does when every decision is
right (and how timing alone can still fail, e.g. with touching items). The clip CLI uses it.
"""

#: Default sorting: class -> diverter index (classes not listed go to the reject bin).
DEFAULT_PLAN = {"nut": 0, "washer": 1, "bolt": 2}


class OracleController:
    """Runs the belt at ``duty`` and fires each diverter for the items ``plan`` sends to it."""

    def __init__(self, world, plan=None, duty=0.6, margin=0.06):
        self.world = world
        self.plan = dict(DEFAULT_PLAN if plan is None else plan)
        self.duty = duty
        self.margin = margin  # seconds of slack on top of the paddle's travel time

    def act(self):
        """Set the motor and the servos for the world as it is now (call after each step)."""
        world, cell = self.world, self.world.cell
        world.set_motor(0.0 if world.estop_pressed else self.duty, 1)
        speed = max(world.belt.speed, 1.0)
        travel = (
            cell.servo.seconds_per_60deg * (cell.servo.extended_deg - cell.servo.retracted_deg) / 60
        )
        for i, paddle in enumerate(world.paddles):
            extend = self._wanted(i, speed * (travel * 1.5 + self.margin))
            if extend and paddle.extension == 0.0 and not paddle.target > cell.servo.retracted_deg:
                extend = self._room(i, speed * travel * 1.2)  # too late to start: let it pass
            angle = cell.servo.extended_deg if extend else cell.servo.retracted_deg
            world.set_servo(i, cell.servo.pulse_for(angle))

    def _room(self, diverter, distance):
        start, _ = self.world.cell.zone(diverter)
        coming = [item.front for item in self.world.items if item.front < start]
        return start - max(coming) > distance

    def _wanted(self, diverter, lead):
        start, _ = self.world.cell.zone(diverter)
        if any(diverter in item.beside for item in self.world.items):
            return False  # extending now would strike the item beside the paddle
        coming = [item for item in self.world.items if item.front < start]
        if not coming:
            return False
        first = max(coming, key=lambda item: item.front)  # the next to arrive
        return self.plan.get(first.cls) == diverter and start - first.front < lead
