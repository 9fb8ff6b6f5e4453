"""The simulated conveyor sorting cell: a belt, a camera, diverters, and ground truth.

    from sims.conveyor import World
    world = World(seed=1)
    world.set_motor(0.6)
    world.step(1.0)
    image = world.render()

See docs/sims.md. :mod:`sims.conveyor.hardware` wires a world to hal's simulated pins,
PCA9685 and camera; ``python -m sims.conveyor`` renders a clip; ``python -m
sims.conveyor.export`` writes a labelled data set.
"""

from .camera import Box, Calibration
from .cell import Camera, Cell, Motor, Servo
from .faults import Faults
from .shapes import CLASSES, DISTRACTOR
from .truth import GroundTruth, ItemRecord
from .world import Edge, World

__all__ = [
    "CLASSES",
    "DISTRACTOR",
    "Box",
    "Calibration",
    "Camera",
    "Cell",
    "Edge",
    "Faults",
    "GroundTruth",
    "ItemRecord",
    "Motor",
    "Servo",
    "World",
]
