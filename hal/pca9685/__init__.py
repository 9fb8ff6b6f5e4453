"""The PCA9685 16-channel PWM controller: a driver, and a simulated chip to run it against.

from hal.pca9685 import PCA9685
pca = PCA9685(bus=1, address=0x40, frequency=50)   # header pins 3/5 on a Jetson Nano
servo_pwm = pca.channel(0)                         # a PWM output: frequency, duty_cycle
servo_pwm.pulse_width_us = 1500                    # centre a hobby servo
pca.close()                                        # all outputs off
"""

from .driver import PCA9685, PCA9685Channel
from .sim import Change, ChannelOutput, DatasheetViolation, SimPCA9685

__all__ = [
    "PCA9685",
    "Change",
    "ChannelOutput",
    "DatasheetViolation",
    "PCA9685Channel",
    "SimPCA9685",
]
