"""The smbus2 backend, against a faithful stand-in for smbus2.SMBus and against smbus2 itself."""

import errno
import inspect
import os
import sys

import pytest
import smbus2

from hal.i2c import I2CError, NoDeviceError, SMBusI2CBus

ANSWERING = {}  # path -> {address: bytearray(256)}: what is wired to each stand-in bus


class StandinSMBus:
    """Stand-in for ``smbus2.SMBus``: same methods and arguments, and the kernel's errors.

    Opening goes through ``os.open`` as smbus2 does (so a missing node is a real ENOENT); a
    transfer to an address with no device raises ``OSError(121, 'Remote I/O error')`` as the
    kernel's I2C drivers do when nobody acknowledges.
    """

    def __init__(self, bus=None, force=False):
        self.fd = os.open(bus, os.O_RDWR)
        self.devices = ANSWERING.get(bus, {})
        self.calls = []

    def _device(self, i2c_addr):
        if i2c_addr not in self.devices:
            raise OSError(errno.EREMOTEIO, "Remote I/O error")
        return self.devices[i2c_addr]

    def read_byte_data(self, i2c_addr, register, force=None):
        self.calls.append(("read_byte_data", i2c_addr, register))
        return self._device(i2c_addr)[register]

    def write_byte_data(self, i2c_addr, register, value, force=None):
        self.calls.append(("write_byte_data", i2c_addr, register, value))
        self._device(i2c_addr)[register] = value

    def read_i2c_block_data(self, i2c_addr, register, length, force=None):
        self.calls.append(("read_i2c_block_data", i2c_addr, register, length))
        return list(self._device(i2c_addr)[register : register + length])

    def write_i2c_block_data(self, i2c_addr, register, data, force=None):
        self.calls.append(("write_i2c_block_data", i2c_addr, register, list(data)))
        self._device(i2c_addr)[register : register + len(data)] = bytes(data)

    def close(self):
        if self.fd:
            os.close(self.fd)
            self.fd = None


@pytest.fixture
def dev(tmp_path):
    """A /dev with i2c-1 carrying one device at 0x40."""
    (tmp_path / "i2c-1").write_bytes(b"")
    ANSWERING[str(tmp_path / "i2c-1")] = {0x40: bytearray(256)}
    yield str(tmp_path)
    ANSWERING.clear()


@pytest.mark.parametrize(
    "name", ["read_byte_data", "write_byte_data", "read_i2c_block_data", "write_i2c_block_data"]
)
def test_smbus_standin_has_the_real_smbus2_signatures(name):
    real = list(inspect.signature(getattr(smbus2.SMBus, name)).parameters)
    standin = list(inspect.signature(getattr(StandinSMBus, name)).parameters)
    assert standin == real


def test_smbus_standin_transfers_map_onto_smbus2_calls(dev):
    bus = SMBusI2CBus(1, dev=dev, smbus_class=StandinSMBus)
    bus.write_byte_data(0x40, 0x01, 0x04)
    bus.write_i2c_block_data(0x40, 0x06, [0, 0, 0x33, 0x01])
    assert bus.read_byte_data(0x40, 0x01) == 0x04
    assert bus.read_i2c_block_data(0x40, 0x06, 4) == [0, 0, 0x33, 0x01]
    assert bus._smbus.calls == [
        ("write_byte_data", 0x40, 0x01, 0x04),
        ("write_i2c_block_data", 0x40, 0x06, [0, 0, 0x33, 0x01]),
        ("read_byte_data", 0x40, 0x01),
        ("read_i2c_block_data", 0x40, 0x06, 4),
    ]
    bus.close()
    assert bus._smbus.fd is None


def test_smbus_standin_remote_io_error_becomes_no_device_error(dev):
    bus = SMBusI2CBus(1, dev=dev, smbus_class=StandinSMBus)
    with pytest.raises(NoDeviceError) as caught:
        bus.write_byte_data(0x41, 0x00, 0x00)
    assert caught.value.errno == 121
    assert str(caught.value) == (
        "no device answered at address 0x41 on I2C bus 1: check wiring, power and the "
        "address (run i2cdetect -y -r 1)"
    )
    assert caught.value.__cause__.strerror == "Remote I/O error"


def test_smbus_standin_missing_bus_lists_the_buses_present(tmp_path):
    for n in (0, 2):
        (tmp_path / f"i2c-{n}").write_bytes(b"")
    with pytest.raises(I2CError) as caught:
        SMBusI2CBus(1, dev=str(tmp_path), smbus_class=StandinSMBus)
    assert caught.value.errno == errno.ENOENT
    message = str(caught.value)
    assert f"I2C bus 1 does not exist ({tmp_path}/i2c-1 not found; buses present: 0, 2)" in message
    assert "sudo modprobe i2c-dev" in message


def test_real_smbus2_missing_bus_says_no_buses_present(tmp_path):
    with pytest.raises(I2CError, match=r"i2c-7 not found; no I2C buses present\)"):
        SMBusI2CBus(7, dev=str(tmp_path))


def test_smbus_standin_permission_denied_explains_the_i2c_group(dev):
    class Denied(StandinSMBus):
        def __init__(self, bus=None, force=False):
            raise PermissionError(errno.EACCES, "Permission denied", bus)

    with pytest.raises(I2CError) as caught:
        SMBusI2CBus(1, dev=dev, smbus_class=Denied)
    assert caught.value.errno == errno.EACCES
    assert str(caught.value) == (
        f"no permission to open {dev}/i2c-1: add yourself to the i2c group "
        "('sudo usermod -aG i2c $USER', then log out and back in)"
    )


@pytest.mark.parametrize(
    "code, says",
    [
        (errno.EBUSY, "address 0x40 on I2C bus 1 is claimed by a kernel driver"),
        (errno.ETIMEDOUT, "address 0x40 on I2C bus 1 timed out"),
        (errno.EIO, "address 0x40 on I2C bus 1 failed: Input/output error"),
    ],
)
def test_smbus_standin_other_kernel_errors_name_bus_and_address(dev, code, says):
    class Failing(StandinSMBus):
        def read_byte_data(self, i2c_addr, register, force=None):
            raise OSError(code, os.strerror(code))

    bus = SMBusI2CBus(1, dev=dev, smbus_class=Failing)
    with pytest.raises(I2CError, match=says) as caught:
        bus.read_byte_data(0x40, 0)
    assert caught.value.errno == code


def test_missing_smbus2_says_how_to_install_it(monkeypatch, dev):
    monkeypatch.setitem(sys.modules, "smbus2", None)
    with pytest.raises(ImportError, match="pip install smbus2"):
        SMBusI2CBus(1, dev=dev)
