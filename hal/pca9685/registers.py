"""The PCA9685 register map and counter arithmetic (NXP PCA9685 data sheet, section 7).

Shared by the driver and the simulated chip, so both read the same map.
"""

MODE1 = 0x00
MODE2 = 0x01
SUBADR1, SUBADR2, SUBADR3, ALLCALLADR = 0x02, 0x03, 0x04, 0x05
LED0_ON_L = 0x06  # LEDn_ON_L = 0x06 + 4n, then ON_H, OFF_L, OFF_H
LED15_OFF_H = 0x45
ALL_LED_ON_L, ALL_LED_ON_H, ALL_LED_OFF_L, ALL_LED_OFF_H = 0xFA, 0xFB, 0xFC, 0xFD
PRE_SCALE = 0xFE
TEST_MODE = 0xFF

# MODE1 bits
RESTART = 0x80
EXTCLK = 0x40
AI = 0x20  # register auto-increment
SLEEP = 0x10  # oscillator off
SUB1, SUB2, SUB3 = 0x08, 0x04, 0x02
ALLCALL = 0x01

# MODE2 bits
INVRT = 0x10
OCH = 0x08
OUTDRV = 0x04  # totem-pole outputs (open-drain when clear)

FULL = 0x10  # bit 4 of LEDn_ON_H (full on) and LEDn_OFF_H (full off; wins over full on)

CHANNELS = 16
STEPS = 4096  # 12-bit counter
OSCILLATOR_HZ = 25e6  # internal oscillator, nominal
PRESCALE_MIN, PRESCALE_MAX = 3, 255  # the chip forces values below 3 up to 3
OSCILLATOR_STARTUP_S = 500e-6  # SLEEP clear -> oscillator stable, before RESTART may be set

POWER_ON = {MODE1: SLEEP | ALLCALL, MODE2: OUTDRV, SUBADR1: 0xE2, SUBADR2: 0xE4,
            SUBADR3: 0xE8, ALLCALLADR: 0xE0, PRE_SCALE: 0x1E}  # fmt: skip
POWER_ON.update({LED0_ON_L + 4 * n + 3: FULL for n in range(CHANNELS)})  # all LEDs full off


def led_on_l(channel):
    """Address of LEDn_ON_L, the first of the channel's four registers."""
    return LED0_ON_L + 4 * channel


def prescale_for(frequency, oscillator_hz=OSCILLATOR_HZ):
    """PRE_SCALE value for ``frequency`` Hz: round(osc / (4096 * f)) - 1 (data sheet eq. 1)."""
    return int(oscillator_hz / (STEPS * frequency) + 0.5) - 1  # round half up


def frequency_of(prescale, oscillator_hz=OSCILLATOR_HZ):
    """The PWM frequency in Hz that ``prescale`` gives."""
    return oscillator_hz / (STEPS * (prescale + 1))


def frequency_range(oscillator_hz=OSCILLATOR_HZ):
    """(lowest, highest) frequency in Hz the chip can produce (about 24 to 1526 Hz)."""
    return frequency_of(PRESCALE_MAX, oscillator_hz), frequency_of(PRESCALE_MIN, oscillator_hz)
