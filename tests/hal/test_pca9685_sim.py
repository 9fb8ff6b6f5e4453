"""The simulated PCA9685 behaves as the data sheet's register map says, driven by raw writes."""

import pytest

from hal.i2c import I2CError, SimI2CBus
from hal.pca9685 import Change, ChannelOutput, DatasheetViolation, SimPCA9685
from hal.pca9685.sim import STOPPED

ADDR = 0x40


class Rig:
    """A sim chip on a sim bus, a virtual clock, and shorthands for raw register access."""

    def __init__(self):
        self.t = 0.0
        self.bus = SimI2CBus(1)
        self.chip = self.bus.attach(ADDR, SimPCA9685(clock=lambda: self.t))

    def write(self, register, *data):
        self.bus.write_i2c_block_data(ADDR, register, list(data))

    def read(self, register, length=1):
        return self.bus.read_i2c_block_data(ADDR, register, length)

    def wake(self, mode1=0x21):
        self.write(0x00, mode1)
        self.t += 500e-6


@pytest.fixture
def rig():
    return Rig()


def test_power_on_state_is_asleep_all_off_at_the_nominal_200hz(rig):
    assert rig.read(0x00, 2) == [0x11, 0x11]  # AI off: both bytes come from MODE1
    assert rig.read(0x02, 4) == [0xE2] * 4
    rig.write(0x00, 0x31)  # AI on (still asleep)
    assert rig.read(0x02, 4) == [0xE2, 0xE4, 0xE8, 0xE0]
    assert rig.read(0x06, 4) == [0, 0, 0, 0x10]
    assert rig.chip.register(0xFE) == 0x1E
    assert rig.chip.frequency == pytest.approx(196.9, abs=0.1)  # 25 MHz / (4096 * 31)
    assert rig.chip.sleeping
    assert {rig.chip.output(n) for n in range(16)} == {STOPPED}


def test_prescale_is_written_only_in_sleep_and_never_below_3(rig):
    rig.write(0xFE, 121)
    assert rig.chip.register(0xFE) == 121
    rig.write(0xFE, 1)
    assert rig.chip.register(0xFE) == 3
    rig.wake()
    rig.write(0xFE, 200)  # blocked while the oscillator runs
    assert rig.chip.register(0xFE) == 3


def test_without_auto_increment_every_byte_lands_on_one_register(rig):
    rig.write(0x00, 0x01)  # awake, AI off
    rig.write(0x06, 0x11, 0x22, 0x33, 0x44)
    assert [rig.chip.register(r) for r in range(0x06, 0x0A)] == [0x44, 0, 0, 0x10]


def test_auto_increment_wraps_to_mode1_after_led15_and_after_prescale(rig):
    rig.write(0x00, 0x31)
    rig.write(0x44, 0x99, 0x00, 0x31)  # LED15_OFF_L, LED15_OFF_H, then MODE1
    assert [rig.chip.register(r) for r in (0x44, 0x45, 0x00)] == [0x99, 0x00, 0x31]
    rig.write(0xFE, 0x05, 0x21)  # PRE_SCALE, then MODE1 (wakes the chip)
    assert rig.chip.register(0xFE) == 5 and not rig.chip.sleeping


def test_all_led_registers_write_every_channel_and_read_zero(rig):
    rig.wake()
    rig.write(0xFA, 0x00, 0x00, 0x00, 0x08)  # every channel: off at 2048
    assert rig.read(0xFA, 4) == [0, 0, 0, 0]
    assert {rig.chip.output(n).duty for n in range(16)} == {0.5}
    rig.write(0xFD, 0x10)
    assert {rig.chip.output(n).duty for n in range(16)} == {0.0}


def test_reserved_registers_are_not_acknowledged(rig):
    with pytest.raises(I2CError, match="does not acknowledge reserved register 0x50") as caught:
        rig.read(0x50)
    assert caught.value.errno == 121
    with pytest.raises(DatasheetViolation, match="TestMode"):
        rig.write(0xFF, 1)


@pytest.mark.parametrize(
    "on, off, duty",
    [
        ((0x00, 0x00), (0x00, 0x08), 0.5),  # on at 0, off at 2048
        ((0x00, 0x01), (0x00, 0x03), 512 / 4096),  # on at 256, off at 768: delayed
        ((0xA0, 0x0F), (0x64, 0x00), 196 / 4096),  # on at 4000, off at 100: wraps
        ((0x00, 0x10), (0x00, 0x00), 1.0),  # full on
        ((0x00, 0x10), (0x00, 0x10), 0.0),  # full off wins over full on
        ((0x00, 0x04), (0x00, 0x04), 0.0),  # on == off: no high time
    ],
)
def test_output_follows_on_and_off_counts(rig, on, off, duty):
    rig.wake()
    rig.write(0x0A, *on, *off)  # LED1
    assert rig.chip.output(1).duty == duty


def test_invrt_inverts_the_outputs(rig):
    rig.wake()
    rig.write(0x01, 0x14)  # INVRT | OUTDRV
    rig.write(0x06, 0, 0, 0x00, 0x01)  # 256 counts high
    assert rig.chip.output(0).duty == 1 - 256 / 4096


def test_sleeping_with_outputs_running_sets_restart_which_needs_500us(rig):
    rig.write(0x00, 0x31)
    rig.write(0xFE, 121)
    rig.wake()
    rig.write(0x06, 0, 0, 0x33, 0x01)
    running = rig.chip.output(0)
    assert running == ChannelOutput(pytest.approx(50.0288, abs=1e-4), 307 / 4096, running.pulse_us)
    rig.write(0x00, 0x31)
    assert rig.read(0x00) == [0xB1]  # RESTART set, asleep
    assert rig.chip.output(0) == STOPPED
    rig.write(0x00, 0x21)  # wake
    rig.t += 100e-6
    with pytest.raises(DatasheetViolation, match="100 us after SLEEP was cleared"):
        rig.write(0x00, 0xA1)
    assert rig.chip.output(0) == STOPPED  # held until the restart
    rig.t += 400e-6
    rig.write(0x00, 0xA1)
    assert rig.read(0x00) == [0x21]
    assert rig.chip.output(0) == running


def test_restart_while_asleep_is_refused(rig):
    rig.wake()
    rig.write(0x06, 0, 0x10, 0, 0)
    rig.write(0x00, 0x31)
    with pytest.raises(DatasheetViolation, match="while SLEEP is set"):
        rig.write(0x00, 0xB1)


def test_writing_a_pwm_register_ends_restart_mode(rig):
    rig.wake()
    rig.write(0x06, 0, 0x10, 0, 0)
    rig.write(0x00, 0x31)
    rig.write(0x00, 0x21)
    assert rig.read(0x00) == [0xA1]
    rig.write(0x0A, 0, 0, 0, 0x08)
    assert rig.read(0x00) == [0x21]
    assert rig.chip.output(0).duty == 1.0 and rig.chip.output(1).duty == 0.5


def test_changes_are_recorded_with_clock_time_and_sent_to_watchers(rig):
    seen = []
    rig.chip.watch(seen.append)
    rig.t = 1.0
    rig.wake()  # outputs now run at 200 Hz, all off: frequency changes from 0
    rig.t = 2.0
    rig.write(0x0E, 0, 0, 0, 0x08)  # LED2 half
    assert seen[-1] == Change(
        2.0, 2, ChannelOutput(rig.chip.frequency, 0.5, 0.5e6 / rig.chip.frequency)
    )
    assert len(seen) == 17
    history = rig.chip.history(2)
    assert [(c.time, c.output.duty) for c in history] == [(0.0, 0.0), (1.0, 0.0), (2.0, 0.5)]
    assert history[0].output == STOPPED
    assert len(rig.chip.history()) == 16 + 16 + 1


def test_external_clock_is_not_modelled(rig):
    with pytest.raises(NotImplementedError, match="external clock"):
        rig.write(0x00, 0x51)
