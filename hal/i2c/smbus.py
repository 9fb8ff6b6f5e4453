"""The real I2C backend: ``/dev/i2c-N`` through smbus2, with the kernel's errors explained."""

import os

from .bus import I2CBus
from .errors import open_failed, transfer_failed


class SMBusI2CBus(I2CBus):
    """An I2C bus on the board, opened through ``smbus2.SMBus``.

    ``dev`` is where the bus device nodes live and ``smbus_class`` replaces ``smbus2.SMBus``
    (both for tests). Kernel errors become :class:`~hal.i2c.errors.I2CError` with the fix.
    """

    def __init__(self, bus_number, dev="/dev", smbus_class=None):
        super().__init__(bus_number)
        if smbus_class is None:
            smbus_class = _import_smbus()
        path = os.path.join(dev, f"i2c-{bus_number}")
        try:
            self._smbus = smbus_class(path)
        except OSError as error:
            raise open_failed(error, bus_number, path, dev) from error

    def _read(self, address, register, length):
        try:
            if length == 1:
                return [self._smbus.read_byte_data(address, register)]
            return list(self._smbus.read_i2c_block_data(address, register, length))
        except OSError as error:
            raise transfer_failed(error, self.bus_number, address) from error

    def _write(self, address, register, data):
        try:
            if len(data) == 1:
                self._smbus.write_byte_data(address, register, data[0])
            else:
                self._smbus.write_i2c_block_data(address, register, data)
        except OSError as error:
            raise transfer_failed(error, self.bus_number, address) from error

    def _close(self):
        self._smbus.close()


def _import_smbus():
    try:
        from smbus2 import SMBus
    except ImportError:
        raise ImportError(
            "smbus2 is not installed: install it with 'pip install smbus2' "
            "(or the nanobot[i2c] extra), or use the sim backend"
        ) from None
    return SMBus
