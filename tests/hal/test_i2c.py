"""The I2C bus interface and the simulated bus."""

import errno
import threading

import pytest

from hal.i2c import I2CError, NoDeviceError, SimI2CBus, Transaction, open_bus


class Registers:
    """A minimal register-file device: 256 bytes, auto-incrementing."""

    def __init__(self):
        self.regs = bytearray(256)

    def read(self, register, length):
        return list(self.regs[register : register + length])

    def write(self, register, data):
        self.regs[register : register + len(data)] = bytes(data)


def test_unanswered_address_raises_no_device_error_naming_bus_and_address():
    bus = SimI2CBus(1)
    with pytest.raises(NoDeviceError) as caught:
        bus.read_byte_data(0x40, 0x00)
    error = caught.value
    assert isinstance(error, OSError) and isinstance(error, I2CError)
    assert error.errno == errno.EREMOTEIO == 121
    assert (error.bus_number, error.address) == (1, 0x40)
    assert str(error) == (
        "no device answered at address 0x40 on I2C bus 1: check wiring, power and the "
        "address (run i2cdetect -y -r 1)"
    )


def test_code_written_for_smbus2_errno_handles_the_sim_bus():
    bus = open_bus(3, backend="sim")
    try:
        bus.write_byte_data(0x60, 0x00, 0x01)
    except OSError as e:
        code = e.errno
    assert code == 121


def test_attached_device_answers_and_transfers_are_recorded():
    bus = SimI2CBus(1)
    device = bus.attach(0x20, Registers())
    bus.write_byte_data(0x20, 0x05, 0xAB)
    bus.write_i2c_block_data(0x20, 0x10, [1, 2, 3])
    assert bus.read_byte_data(0x20, 0x05) == 0xAB
    assert bus.read_i2c_block_data(0x20, 0x10, 3) == [1, 2, 3]
    assert device.regs[0x10:0x13] == b"\x01\x02\x03"
    assert bus.transactions == [
        Transaction("write", 0x20, 0x05, (0xAB,)),
        Transaction("write", 0x20, 0x10, (1, 2, 3)),
        Transaction("read", 0x20, 0x05, (0xAB,)),
        Transaction("read", 0x20, 0x10, (1, 2, 3)),
    ]
    assert bus.device(0x20) is device
    bus.detach(0x20)
    with pytest.raises(NoDeviceError):
        bus.read_byte_data(0x20, 0x05)


def test_two_devices_cannot_share_an_address():
    bus = SimI2CBus(1)
    bus.attach(0x40, Registers())
    with pytest.raises(ValueError, match="0x40 on sim I2C bus 1 is taken"):
        bus.attach(0x40, Registers())
    with pytest.raises(ValueError, match="7-bit address"):
        bus.attach(0x80, Registers())


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda b: b.read_byte_data(0x80, 0), "7-bit address 0x03..0x77, not 128"),
        (lambda b: b.read_byte_data(0x02, 0), "7-bit address"),
        (lambda b: b.read_byte_data(0x20, 256), "register must be 0..255, not 256"),
        (lambda b: b.write_byte_data(0x20, 0, 300), "bytes 0..255, not 300"),
        (lambda b: b.write_i2c_block_data(0x20, 0, [0] * 33), "block length must be 1..32"),
        (lambda b: b.write_i2c_block_data(0x20, 0, []), "block length must be 1..32, not 0"),
        (lambda b: b.read_i2c_block_data(0x20, 0, 33), "block length must be 1..32, not 33"),
    ],
)
def test_arguments_the_kernel_would_refuse_are_refused(call, message):
    bus = SimI2CBus(1)
    bus.attach(0x20, Registers())
    with pytest.raises(ValueError, match=message):
        call(bus)
    assert bus.transactions == []


def test_a_closed_bus_refuses_transfers_and_closing_twice_is_harmless():
    with SimI2CBus(2) as bus:
        bus.attach(0x20, Registers())
    assert bus.closed
    bus.close()
    with pytest.raises(ValueError, match="I2C bus 2 is closed"):
        bus.read_byte_data(0x20, 0)


def test_open_bus_names_the_backends_it_knows():
    assert isinstance(open_bus(1, backend="sim"), SimI2CBus)
    with pytest.raises(ValueError, match="unknown I2C backend 'spi': use one of smbus2, sim"):
        open_bus(1, backend="spi")


def test_threads_sharing_a_bus_never_interleave_inside_a_transfer():
    inside = []
    overlaps = []

    class Slow(Registers):
        def write(self, register, data):
            inside.append(register)
            if len(inside) > 1:
                overlaps.append(tuple(inside))
            super().write(register, data)
            inside.pop()

    bus = SimI2CBus(1)
    bus.attach(0x20, Slow())
    start = threading.Barrier(4)

    def hammer(n):
        start.wait()
        for _ in range(200):
            bus.write_i2c_block_data(0x20, n, [n] * 4)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
    assert len(bus.transactions) == 800
