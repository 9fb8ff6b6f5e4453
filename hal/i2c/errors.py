"""I2C errors that say what to do: the kernel's errno turned into guidance.

Every error is an :class:`OSError` carrying the kernel's errno, so code written for smbus2
(``except OSError as e: if e.errno == 121``) handles the real and the simulated bus alike.
"""

import errno
import glob
import os
import re

EREMOTEIO = getattr(errno, "EREMOTEIO", 121)  # "Remote I/O error": nobody acknowledged


class I2CError(OSError):
    """An I2C bus could not be opened or a transfer failed; ``str()`` is the fix."""

    def __init__(self, code, message, bus_number=None, address=None):
        super().__init__(code, message)
        self.bus_number = bus_number
        self.address = address

    def __str__(self):
        return self.strerror


class NoDeviceError(I2CError):
    """No device acknowledged the address (errno 121, the "Remote I/O error" users see)."""

    def __init__(self, bus_number, address):
        super().__init__(
            EREMOTEIO,
            f"no device answered at address 0x{address:02x} on I2C bus {bus_number}: "
            f"check wiring, power and the address (run i2cdetect -y -r {bus_number})",
            bus_number,
            address,
        )


def buses_present(dev="/dev"):
    """The I2C bus numbers that have a device node under ``dev``, sorted."""
    numbers = []
    for path in glob.glob(os.path.join(dev, "i2c-*")):
        match = re.match(r"i2c-(\d+)$", os.path.basename(path))
        if match:
            numbers.append(int(match.group(1)))
    return sorted(numbers)


def open_failed(error, bus_number, path, dev="/dev"):
    """The :class:`I2CError` for an ``OSError`` raised while opening ``path``."""
    if error.errno == errno.ENOENT:
        present = buses_present(dev)
        found = (
            "buses present: " + ", ".join(str(n) for n in present)
            if present
            else "no I2C buses present"
        )
        message = (
            f"I2C bus {bus_number} does not exist ({path} not found; {found}): use a bus "
            f"that exists, or load the driver with 'sudo modprobe i2c-dev' (on a Raspberry Pi "
            f"enable I2C with 'sudo raspi-config nonint do_i2c 0')"
        )
    elif error.errno in (errno.EACCES, errno.EPERM):
        message = (
            f"no permission to open {path}: add yourself to the i2c group "
            f"('sudo usermod -aG i2c $USER', then log out and back in)"
        )
    else:
        message = f"cannot open I2C bus {bus_number} ({path}): {error.strerror or error}"
    return I2CError(error.errno, message, bus_number)


def transfer_failed(error, bus_number, address):
    """The :class:`I2CError` for an ``OSError`` raised by a transfer to ``address``."""
    if error.errno == EREMOTEIO and not isinstance(error, I2CError):
        return NoDeviceError(bus_number, address)
    if isinstance(error, I2CError):
        return error
    where = f"address 0x{address:02x} on I2C bus {bus_number}"
    if error.errno == errno.EBUSY:
        message = (
            f"{where} is claimed by a kernel driver: unbind that driver "
            f"(see /sys/bus/i2c/devices/{bus_number}-{address:04x}/driver) or use another address"
        )
    elif error.errno == errno.ETIMEDOUT:
        message = (
            f"{where} timed out: the bus may be stuck with SDA held low; check for shorts and "
            f"pull-up resistors, then power-cycle the device"
        )
    else:
        message = f"{where} failed: {error.strerror or error}"
    return I2CError(error.errno, message, bus_number, address)
