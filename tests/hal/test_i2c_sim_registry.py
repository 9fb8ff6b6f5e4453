"""The process-wide registry of simulated I2C buses: open_bus(n, backend="sim") finds a
world's bus by number, as sim:// finds its camera."""

from hal.i2c import SimI2CBus, open_bus, register_bus, unregister_bus
from hal.pca9685 import PCA9685, SimPCA9685


def test_open_bus_reaches_the_registered_bus_and_closing_it_leaves_the_world_bus_open():
    world_bus = SimI2CBus(7)
    chip = world_bus.attach(0x40, SimPCA9685(clock=lambda: 0.0))
    register_bus(world_bus)
    try:
        bus = open_bus(7, backend="sim")
        pca = PCA9685(bus, address=0x40, frequency=50, sleep=lambda s: None)
        pca.set_pulse_width_us(3, 1500)
        assert abs(chip.output(3).pulse_us - 1500) < 10
        pca.close()
        bus.close()  # closes its own handle on bus 7 only
        assert not world_bus.closed
        assert world_bus.transactions  # one record of the wire, shared
    finally:
        unregister_bus(world_bus)
    fresh = open_bus(7, backend="sim")
    assert fresh.device(0x40) is None  # unregistered: a new, empty bus


def test_unregister_forgets_only_the_bus_it_is_given():
    a, b = SimI2CBus(8), SimI2CBus(8)
    register_bus(a)
    register_bus(b)
    unregister_bus(a)  # a was replaced: b stays
    b.attach(0x10, object())
    assert open_bus(8, backend="sim").device(0x10) is not None
    unregister_bus(b)
