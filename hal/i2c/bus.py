"""The I2C bus interface shared by the real (smbus2) and simulated backends.

A bus talks to register-based devices: each transfer names a 7-bit device address and a
register, then moves bytes. The methods and their arguments are smbus2's, so code moves between
``smbus2.SMBus`` and this class unchanged. Arguments are checked here, once, so the simulated
bus refuses exactly what the real one would.
"""

import threading

BLOCK_MAX = 32  # the Linux SMBus limit on one block transfer (smbus2.I2C_SMBUS_BLOCK_MAX)
FIRST_ADDRESS, LAST_ADDRESS = 0x03, 0x77  # 7-bit addresses outside the reserved ones


class I2CBus:
    """One I2C bus (``/dev/i2c-N`` on Linux). Use as a context manager or call :meth:`close`.

    Transfers are serialized by a lock, so threads may share a bus. Subclasses implement
    ``_read(address, register, length)``, ``_write(address, register, data)`` and ``_close()``.
    """

    def __init__(self, bus_number):
        self.bus_number = bus_number
        self._lock = threading.Lock()
        self._closed = False

    def read_byte_data(self, address, register):
        """Read one byte from ``register`` of the device at ``address``."""
        return self._transfer(self._read, address, register, 1)[0]

    def write_byte_data(self, address, register, value):
        """Write the byte ``value`` to ``register`` of the device at ``address``."""
        self._transfer(self._write, address, register, _checked_bytes([value]))

    def read_i2c_block_data(self, address, register, length):
        """Read ``length`` bytes (at most 32) starting at ``register``; returns a list of ints."""
        if not 1 <= length <= BLOCK_MAX:
            raise ValueError(f"block length must be 1..{BLOCK_MAX}, not {length}")
        return self._transfer(self._read, address, register, length)

    def write_i2c_block_data(self, address, register, data):
        """Write ``data`` (1 to 32 bytes) starting at ``register``."""
        data = _checked_bytes(data)
        if not 1 <= len(data) <= BLOCK_MAX:
            raise ValueError(f"block length must be 1..{BLOCK_MAX}, not {len(data)}")
        self._transfer(self._write, address, register, data)

    def close(self):
        """Release the bus. Closing twice is harmless."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._close()

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        state = "closed" if self._closed else "open"
        return f"<{type(self).__name__} bus {self.bus_number} {state}>"

    def _transfer(self, operation, address, register, argument):
        if not (isinstance(address, int) and FIRST_ADDRESS <= address <= LAST_ADDRESS):
            raise ValueError(f"I2C address must be a 7-bit address 0x03..0x77, not {address!r}")
        if not (isinstance(register, int) and 0 <= register <= 0xFF):
            raise ValueError(f"register must be 0..255, not {register!r}")
        with self._lock:
            if self._closed:
                raise ValueError(f"I2C bus {self.bus_number} is closed: open it again")
            return operation(address, register, argument)

    def _read(self, address, register, length):
        raise NotImplementedError

    def _write(self, address, register, data):
        raise NotImplementedError

    def _close(self):
        raise NotImplementedError


def _checked_bytes(data):
    data = list(data)
    for value in data:
        if not (isinstance(value, int) and 0 <= value <= 0xFF):
            raise ValueError(f"I2C data must be bytes 0..255, not {value!r}")
    return data
