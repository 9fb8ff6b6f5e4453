"""The PCA9685 driver, run against the simulated chip: register traffic and resulting outputs."""

import os

import pytest

from hal.i2c import I2CError, NoDeviceError, SimI2CBus, Transaction
from hal.pca9685 import PCA9685, DatasheetViolation, SimPCA9685
from hal.pca9685.sim import STOPPED


class VirtualClock:
    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def bus():
    return SimI2CBus(1)


@pytest.fixture
def chip(bus, clock):
    return bus.attach(0x40, SimPCA9685(clock=clock.now))


@pytest.fixture
def pca(bus, chip, clock):
    pca = PCA9685(bus, sleep=clock.sleep)
    del bus.transactions[:]
    return pca


def W(register, *data):
    return Transaction("write", 0x40, register, data)


def R(register, *data):
    return Transaction("read", 0x40, register, data)


def test_open_puts_the_chip_in_a_known_state_with_the_datasheet_sequence(bus, chip, clock):
    PCA9685(bus, frequency=50, sleep=clock.sleep)
    assert bus.transactions == [
        W(0xFD, 0x10),  # ALL_LED_OFF_H: every output full off
        W(0x01, 0x04),  # MODE2: totem-pole outputs
        W(0x00, 0x31),  # MODE1: SLEEP | AI | ALLCALL, so PRE_SCALE can be written
        W(0xFE, 121),  # PRE_SCALE = round(25e6 / (4096 * 50)) - 1
        W(0x00, 0x21),  # MODE1: awake, auto-increment
        R(0x00, 0x21),  # RESTART clear: nothing was running, no restart needed
    ]
    assert clock.t == pytest.approx(500e-6)  # waited for the oscillator
    assert chip.frequency == pytest.approx(50.0288, abs=1e-4)
    assert not chip.sleeping


def test_50hz_1500us_gives_307_counts_and_a_1498us_pulse(pca, bus, chip):
    pca.set_pulse_width_us(0, 1500)
    assert bus.transactions == [W(0x06, 0x00, 0x00, 0x33, 0x01)]  # on at 0, off at 0x133 = 307
    out = chip.output(0)
    assert out.frequency == pytest.approx(50.0288, abs=1e-4)
    assert out.duty == 307 / 4096
    assert out.pulse_us == pytest.approx(1498.16, abs=0.01)
    assert pca.pulse_width_us(0) == pytest.approx(out.pulse_us)
    assert [chip.output(n) for n in range(1, 16)] == [chip.output(1)] * 15
    assert chip.output(1).duty == 0.0


def test_duty_cycle_maps_to_counts_and_the_full_bits(pca, bus, chip):
    pca.set_duty_cycle(15, 0.25)
    pca.set_duty_cycle(14, 1.0)
    pca.set_duty_cycle(15, 0.0)
    assert bus.transactions == [
        W(0x42, 0x00, 0x00, 0x00, 0x04),  # LED15: off at 1024
        W(0x3E, 0x00, 0x10, 0x00, 0x00),  # LED14: full on
        W(0x42, 0x00, 0x00, 0x00, 0x10),  # LED15: full off
    ]
    assert chip.output(14).duty == 1.0
    assert chip.output(15).duty == 0.0
    assert pca.duty_cycle(14) == 1.0


def test_changing_frequency_while_running_restarts_the_outputs(pca, bus, chip, clock):
    pca.set_duty_cycle(3, 0.5)
    del bus.transactions[:]
    start = clock.t
    pca.frequency = 1000
    assert bus.transactions == [
        W(0x00, 0x31),
        W(0xFE, 5),  # round(25e6 / 4096e3) - 1
        W(0x00, 0x21),
        R(0x00, 0xA1),  # the chip set RESTART when it slept with channel 3 running
        W(0x00, 0xA1),  # restart, 500 us after waking
    ]
    history = chip.history(3)
    assert [c.output for c in history[-2:]] == [STOPPED, chip.output(3)]
    assert history[-1].time - history[-2].time == pytest.approx(500e-6)
    assert history[-2].time == start
    assert chip.output(3).frequency == pytest.approx(1017.25, abs=0.01)
    assert chip.output(3).duty == 0.5


def test_restart_without_waiting_for_the_oscillator_violates_the_datasheet(bus, chip):
    pca = PCA9685(bus, sleep=lambda s: None)  # a driver that forgot to wait
    pca.set_duty_cycle(0, 0.5)
    with pytest.raises(DatasheetViolation, match="0 us after SLEEP was cleared"):
        pca.frequency = 60


def test_frequency_is_limited_to_what_the_prescaler_can_make(pca):
    with pytest.raises(ValueError, match=r"frequency must be 24\.\.1526 Hz, not 2000"):
        pca.frequency = 2000
    pca.frequency = 1526
    assert pca.frequency == pytest.approx(1525.88, abs=0.01)
    pca.frequency = 24
    assert pca.frequency == pytest.approx(24.0, abs=0.1)


def test_oscillator_calibration_changes_the_prescaler(bus, chip, clock):
    pca = PCA9685(bus, frequency=50, oscillator_hz=27e6, sleep=clock.sleep)
    assert chip.register(0xFE) == 131  # round(27e6 / 204800) - 1
    assert pca.frequency == pytest.approx(27e6 / (4096 * 132))


def test_pulse_longer_than_the_period_is_refused(pca):
    with pytest.raises(ValueError, match=r"pulse width must be 0\.\.19988 us .* not 25000"):
        pca.set_pulse_width_us(0, 25000)
    with pytest.raises(ValueError, match=r"duty cycle must be 0\.\.1, not 1\.5"):
        pca.set_duty_cycle(0, 1.5)
    with pytest.raises(ValueError, match=r"channel must be 0\.\.15, not 16"):
        pca.channel(16)


def test_channel_is_a_pwm_output_whose_frequency_is_the_chips(pca, chip):
    servo, motor = pca.channel(0), pca.channel(1)
    assert pca.channel(0) is servo
    servo.frequency = 60
    assert motor.frequency == pca.frequency == pytest.approx(59.84, abs=0.01)
    servo.duty_cycle = 0.1
    motor.pulse_width_us = 1000
    assert chip.output(0).duty == pytest.approx(0.1, abs=1 / 4096)
    assert chip.output(1).pulse_us == pytest.approx(1000, abs=5)
    servo.close()
    assert chip.output(0).duty == 0.0 and servo.duty_cycle == 0.0
    assert chip.output(1).pulse_us == pytest.approx(1000, abs=5)


def test_close_turns_everything_off_and_leaves_a_borrowed_bus_open(pca, bus, chip):
    for n in range(16):
        pca.set_duty_cycle(n, 0.5)
    del bus.transactions[:]
    with pca:
        pass
    assert bus.transactions == [W(0xFD, 0x10)]
    assert {chip.output(n).duty for n in range(16)} == {0.0}
    assert not bus.closed
    pca.close()  # twice is harmless
    with pytest.raises(ValueError, match="is closed: create a new PCA9685"):
        pca.all_off()


def test_no_chip_at_the_address_is_the_remote_io_error(bus, chip, clock):
    with pytest.raises(NoDeviceError, match="no device answered at address 0x60 on I2C bus 1"):
        PCA9685(bus, address=0x60, sleep=clock.sleep)


@pytest.mark.skipif(os.path.exists("/dev/i2c-9"), reason="this machine has an I2C bus 9")
def test_a_bus_number_opens_the_real_bus_and_says_when_it_is_missing():
    with pytest.raises(I2CError, match="I2C bus 9 does not exist"):
        PCA9685(9)
