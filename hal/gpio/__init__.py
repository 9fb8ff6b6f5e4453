"""GPIO through a pin factory, in the spirit of gpiozero, on real and simulated backends.

    from hal.gpio import get_factory
    factory = get_factory("sim", board="jetson-nano")   # or "jetson", "rpi", "auto"
    pin = factory.pin(12)                                # BOARD numbering by default
    pin.function = "output"
    pin.state = 1
    factory.close()                                      # releases exactly what it claimed

Backends: ``sim`` (:mod:`hal.gpio.sim`) and the RPi.GPIO-style modules (:mod:`hal.gpio.rpigpio`:
Jetson.GPIO as ``jetson``, RPi.GPIO / rpi-lgpio as ``rpi``). Board rules: :mod:`hal.boards`.
"""

from hal.boards import PinUsageError
from hal.gpio.clock import DrivenClock, VirtualClock, WallClock
from hal.gpio.guidance import GPIOSetupError
from hal.gpio.pin import Factory, Pin
from hal.gpio.selection import default_factory, get_factory, set_default_factory

__all__ = [
    "DrivenClock",
    "Factory",
    "GPIOSetupError",
    "Pin",
    "PinUsageError",
    "VirtualClock",
    "WallClock",
    "default_factory",
    "get_factory",
    "set_default_factory",
]
