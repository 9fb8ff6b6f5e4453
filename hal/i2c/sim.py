"""The simulated I2C bus: simulated devices answer at the addresses they are attached to.

A device is any object with the two halves of a register transfer as seen on the wire::

    read(register, length) -> list of ints   # register pointer written, then bytes read
    write(register, data)                    # register pointer, then the data bytes

An address with nothing attached raises :class:`~hal.i2c.errors.NoDeviceError` (errno 121), as
the kernel does. Every transfer is recorded in :attr:`SimI2CBus.transactions`.

A simulated world that owns a bus registers it, so code that opens the bus by number finds the
world's devices on it, as ``sim://`` finds a world's camera::

    register_bus(world_bus)                   # a SimI2CBus holding, say, a SimPCA9685
    bus = open_bus(1, backend="sim")          # shares world_bus's devices; closing it leaves
                                              # world_bus open
"""

import collections
import threading

from .bus import FIRST_ADDRESS, LAST_ADDRESS, I2CBus
from .errors import NoDeviceError

Transaction = collections.namedtuple("Transaction", "op address register data")
Transaction.__doc__ = """One transfer on a simulated bus: op is 'read' or 'write', data a tuple."""


_registered = {}  # bus number -> SimI2CBus
_registry_lock = threading.Lock()


def register_bus(bus):
    """Make ``open_bus(bus.bus_number, backend="sim")`` reach ``bus``'s devices (replacing any
    bus registered under that number)."""
    with _registry_lock:
        _registered[bus.bus_number] = bus


def unregister_bus(bus):
    """Forget ``bus`` if it is the one registered under its number; buses opened keep working."""
    with _registry_lock:
        if _registered.get(bus.bus_number) is bus:
            del _registered[bus.bus_number]


def open_sim_bus(bus_number):
    """A handle on the registered sim bus ``bus_number`` (same devices and transaction record,
    closed on its own), or a new empty bus if none is registered."""
    with _registry_lock:
        registered = _registered.get(bus_number)
    if registered is None:
        return SimI2CBus(bus_number)
    return registered.handle()


class SimI2CBus(I2CBus):
    """An in-memory I2C bus. ``bus.attach(0x40, SimPCA9685())`` puts a device on it."""

    def __init__(self, bus_number=1):
        super().__init__(bus_number)
        self._devices = {}
        self.transactions = []

    def handle(self):
        """Another open bus on the same wire: same devices, same record; closes on its own."""
        other = SimI2CBus(self.bus_number)
        other._devices = self._devices
        other.transactions = self.transactions
        return other

    def attach(self, address, device):
        """Make ``device`` answer at ``address``; returns the device."""
        if not FIRST_ADDRESS <= address <= LAST_ADDRESS:
            raise ValueError(f"I2C address must be a 7-bit address 0x03..0x77, not {address!r}")
        if address in self._devices:
            raise ValueError(
                f"address 0x{address:02x} on sim I2C bus {self.bus_number} is taken by "
                f"{self._devices[address]!r}: detach it first or use another address"
            )
        self._devices[address] = device
        return device

    def detach(self, address):
        """Remove the device at ``address`` (it stops answering)."""
        self._devices.pop(address, None)

    def device(self, address):
        """The device attached at ``address``, or None."""
        return self._devices.get(address)

    def _device_at(self, address):
        try:
            return self._devices[address]
        except KeyError:
            raise NoDeviceError(self.bus_number, address) from None

    def _read(self, address, register, length):
        data = [int(b) for b in self._device_at(address).read(register, length)]
        self.transactions.append(Transaction("read", address, register, tuple(data)))
        return data

    def _write(self, address, register, data):
        self._device_at(address).write(register, list(data))
        self.transactions.append(Transaction("write", address, register, tuple(data)))

    def _close(self):
        pass
