"""I2C buses: the board's ``/dev/i2c-N`` through smbus2, or a simulated bus.

    bus = open_bus(1)                   # Jetson Nano / Raspberry Pi header pins 3 and 5
    mode1 = bus.read_byte_data(0x40, 0x00)
    bus.close()

Both backends share the smbus2-style interface of :class:`I2CBus` and raise the same
:class:`I2CError` (an ``OSError`` with the kernel's errno) whose message says what to do.
"""

from .bus import BLOCK_MAX, I2CBus
from .errors import I2CError, NoDeviceError
from .sim import SimI2CBus, Transaction, open_sim_bus, register_bus, unregister_bus
from .smbus import SMBusI2CBus

BACKENDS = ("smbus2", "sim")

__all__ = [
    "BACKENDS",
    "BLOCK_MAX",
    "I2CBus",
    "I2CError",
    "NoDeviceError",
    "SMBusI2CBus",
    "SimI2CBus",
    "Transaction",
    "open_bus",
    "register_bus",
    "unregister_bus",
]


def open_bus(bus_number, backend="smbus2"):
    """Open I2C bus ``bus_number`` on ``backend``: 'smbus2' (the board) or 'sim' (in memory).

    Jetson Nano and Raspberry Pi: header pins 3 (SDA) and 5 (SCL) are bus 1. A sim bus is the
    one a simulated world registered under that number (:func:`register_bus`), or else a new,
    empty one: put simulated devices on it with :meth:`SimI2CBus.attach`.
    """
    if backend == "smbus2":
        return SMBusI2CBus(bus_number)
    if backend == "sim":
        return open_sim_bus(bus_number)
    raise ValueError(f"unknown I2C backend {backend!r}: use one of {', '.join(BACKENDS)}")
