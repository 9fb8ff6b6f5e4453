"""Devices on GPIO pins, usable on their own (no node needed)::

    from hal.devices import LED, Button
    led = LED(12)
    button = Button(16)
    button.when_pressed = led.toggle

Each takes ``factory=`` (default: :func:`hal.gpio.default_factory`, chosen by NANOBOT_HAL),
is a context manager, and releases its pins on close() and at interpreter exit.
"""

from hal.devices.counter import PulseCounter
from hal.devices.device import Device, is_pwm_output
from hal.devices.distance import DistanceSensor, SimHCSR04
from hal.devices.input import Button, DigitalInput
from hal.devices.motor import Motor
from hal.devices.output import LED, DigitalOutput
from hal.devices.servo import AngularServo, Servo

__all__ = [
    "LED",
    "AngularServo",
    "Button",
    "Device",
    "DigitalInput",
    "DigitalOutput",
    "DistanceSensor",
    "Motor",
    "PulseCounter",
    "Servo",
    "SimHCSR04",
    "is_pwm_output",
]
