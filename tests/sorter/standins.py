"""Test stand-ins: the sorter's logic (Tracker, Scheduler) driven straight from a sims.conveyor
World, with no nodes: a stand-in detector (the world's true boxes with noise), the encoder read
as the belt's roller travel, and diverter commands applied to the servos on time."""

import numpy as np

import hal.camera.sim
from apps.sorter.scheduler import Debouncer, Geometry, Scheduler
from apps.sorter.tracker import Calibration, Tracker
from nanobot.msgs import Detections, Image, KeyValue
from nanobot.node import Input, Node, Output, Param
from sims.conveyor import CLASSES, World
from sims.conveyor.oracle import DEFAULT_PLAN

DT = 0.005


def geometry_of(cell):
    cam = cell.camera
    return Geometry(
        diverters=cell.diverters,
        beams=cell.beams,
        reach=cell.paddle_reach,
        view_end=cam.x0 + cam.width / cam.px_per_mm,
        slew_s=cell.servo.seconds_per_60deg
        * (cell.servo.extended_deg - cell.servo.retracted_deg)
        / 60,
    )


class StandinDetector:
    """Detections from the world's true boxes: centre noise `jitter_px`, a wrong class with
    probability `confusion`, each box missed with probability `miss`."""

    def __init__(self, world, rng, jitter_px=1.5, confusion=0.02, miss=0.02, score=0.9):
        self.world, self.rng = world, rng
        self.jitter_px, self.confusion, self.miss, self.score = jitter_px, confusion, miss, score

    def detect(self):
        boxes, scores, ids = [], [], []
        for b in self.world.camera.boxes():
            if self.rng.uniform() < self.miss:
                continue
            shift = self.rng.normal(0, self.jitter_px, 2)
            boxes.append([b.x0 + shift[0], b.y0 + shift[1], b.x1 + shift[0], b.y1 + shift[1]])
            cid = CLASSES.index(b.cls)
            if self.rng.uniform() < self.confusion:
                cid = (cid + self.rng.randint(1, len(CLASSES))) % len(CLASSES)
            ids.append(cid)
            scores.append(self.score)
        return np.array(boxes).reshape(-1, 4), np.array(scores), np.array(ids, int)


def run_world(seed, items=60, duty=0.6, faults=None, detector_down=(), **detector):
    """Sort `items` items of World(seed); returns (world, scheduler). `detector_down` lists
    (from, to) seconds in which no detections arrive."""
    world = World(seed=seed, faults=faults)
    cell = world.cell
    cal = Calibration(**world.calibration.as_dict())
    tracker = Tracker(cal, CLASSES)
    scheduler = Scheduler(geometry_of(cell), DEFAULT_PLAN)
    det = StandinDetector(world, np.random.RandomState(seed), **detector)
    debounce = Debouncer()
    servo = cell.servo
    pending = {}  # item id -> command
    frame_period, next_frame = 1 / cell.camera.fps, 0.0
    world.set_motor(duty, 1)
    ns = lambda t: round(t * 1e9)  # noqa: E731

    def execute(commands):
        for c in commands:
            if c.extend_at == c.retract_at:
                pending.pop(c.item_id, None)
            else:
                pending[c.item_id] = c

    while len(world.truth.finished()) < items:
        edges = world.step(DT)
        now = ns(world.t)
        position = world.belt.roller
        execute(scheduler.belt(now, position, world.belt.speed))
        for e in edges:
            if not e.signal.startswith("beam"):
                continue
            beam = int(e.signal[4:])
            event = debounce.edge(beam, e.level, ns(e.t))
            at = position - world.belt.speed * (world.t - e.t)
            if event == Debouncer.BREAK:
                execute(scheduler.beam_break(beam, at))
            elif event == Debouncer.CLEAR:
                execute(scheduler.beam_clear(beam, at))
        if world.t >= next_frame - 1e-9:
            next_frame += frame_period
            frame = world.render()
            down = any(a <= world.t < b for a, b in detector_down)
            if frame is not None and not down:
                boxes, scores, ids = det.detect()
                seen = tracker.update(now, position, boxes, scores, ids)
                execute(
                    scheduler.tracks(now, position, world.belt.speed, tracker.message(now, seen))
                )
        for d in range(len(cell.diverters)):
            out = any(
                c.diverter == d and c.extend_at <= now < c.retract_at for c in pending.values()
            )
            world.set_servo(d, servo.pulse_for(servo.extended_deg if out else servo.retracted_deg))
    return world, scheduler


def outcome(world, items):
    """Counts over the first `items` finished items: correct, wrong, rejected, jammed."""
    out = {"correct": 0, "wrong": 0, "rejected": 0, "jammed": 0}
    for r in world.truth.finished()[:items]:
        want = DEFAULT_PLAN.get(r.cls, "reject")
        if r.bin is None:
            out["jammed"] += 1
        elif r.bin == want:
            out["correct"] += 1
        elif r.bin == "reject":
            out["rejected"] += 1
        else:
            out["wrong"] += 1
    return out


class StandinDetectorNode(Node):
    """Stand-in for the DetectorNode (until the sorter's model is trained, and for tests of
    the other nodes): publishes the simulated world's true boxes of each frame as Detections,
    with `jitter_px` of noise, a wrong class with probability `confusion` and each box missed
    with probability `miss`. It reads the world through the sim camera registry, so it must
    run in the world's process (the simulation executor)."""

    image = Input(Image)
    detections = Output(Detections)
    stats = Output(KeyValue, topic="detections/stats")

    camera = Param("conveyor", help="sim camera name of the world")
    jitter_px = Param(1.5)
    confusion = Param(0.02)
    miss = Param(0.02)
    down = Param([], help="[[from, to], ...] seconds during which no detections come out")

    def setup(self):
        world = hal.camera.sim._sources[self.camera].cell.world
        self.detector = StandinDetector(world, self.rng, self.jitter_px, self.confusion, self.miss)

    def on_image(self, msg):
        if any(a <= self.now() < b for a, b in self.down):
            return
        boxes, scores, ids = self.detector.detect()
        found = Detections(
            boxes=boxes.astype("float32"),
            scores=scores.astype("float32"),
            class_ids=ids.astype("int32"),
            class_names=list(CLASSES),
            image_stamp=msg.stamp,
            image_frame_id=msg.frame_id,
            image_width=msg.width,
            image_height=msg.height,
        )
        self.detections.publish(found, stamp=msg.stamp)
