"""The real GPIO backend: any module with the RPi.GPIO API.

That is Jetson.GPIO on a Jetson, RPi.GPIO or rpi-lgpio on a Raspberry Pi. The module is passed
in (tests pass a stand-in), so this file never imports hardware code itself; see
:func:`hal.gpio.get_factory` for the import with its guidance.

Edges: the module is asked for BOTH edges with no bouncetime and reports through a callback
on its own thread; debounce and the rising/falling filter happen in :class:`hal.gpio.pin.Pin`,
which also drops the repeated events Jetson.GPIO is known to deliver. ``wait_for_edge`` waits on
those callbacks rather than on the module's own wait_for_edge (whose timeout is in seconds and
must be an int in Jetson.GPIO but is in milliseconds in RPi.GPIO).
"""

import logging

from hal.gpio.guidance import GPIOSetupError, explain
from hal.gpio.pin import Factory, Pin

__all__ = ["RPiGPIOFactory", "RPiGPIOPin"]

log = logging.getLogger("hal.gpio")


class RPiGPIOPin(Pin):
    """A header pin driven through the RPi.GPIO-style module of its factory."""

    def __init__(self, factory, number):
        super().__init__(factory, number)
        self._gpio = factory.module
        self._channel = number if factory.module_mode == "BOARD" else self.header.bcm
        self._pwm = None
        self._set_up = False

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as error:
            advice = explain(error, self._where(), self.board)
            if advice is None:
                raise
            raise GPIOSetupError(advice) from error

    def _hw_setup_input(self, pull):
        gpio = self._gpio
        kwargs = {}
        if pull is not None:  # never pass pull_up_down on a Jetson (board rules forbid it)
            kwargs["pull_up_down"] = gpio.PUD_UP if pull == "up" else gpio.PUD_DOWN
        self._call(gpio.setup, self._channel, gpio.IN, **kwargs)
        self._set_up = True

    def _hw_setup_output(self, initial):
        gpio = self._gpio
        self._call(gpio.setup, self._channel, gpio.OUT, initial=gpio.HIGH if initial else gpio.LOW)
        self._set_up = True

    def _hw_read(self):
        return self._call(self._gpio.input, self._channel)

    def _hw_write(self, level):
        gpio = self._gpio
        self._call(gpio.output, self._channel, gpio.HIGH if level else gpio.LOW)

    def _hw_pwm_start(self, frequency, duty_cycle):
        gpio = self._gpio
        # RPi.GPIO wants an output before PWM; Jetson.GPIO releases it again for the pwmchip.
        self._hw_setup_output(0)
        self._pwm = self._call(gpio.PWM, self._channel, frequency)
        self._pwm_frequency = frequency
        self._call(self._pwm.start, duty_cycle * 100.0)
        if self.board.is_jetson:
            log.info(
                "PWM started on %s at %g Hz; if no pulse reaches the pin, %s",
                self._where(),
                frequency,
                self.board.pwm_note,
            )

    def _hw_pwm_update(self, frequency, duty_cycle):
        if frequency != self._pwm_frequency:
            self._call(self._pwm.ChangeFrequency, frequency)
            self._pwm_frequency = frequency
        self._call(self._pwm.ChangeDutyCycle, duty_cycle * 100.0)

    def _hw_pwm_stop(self):
        if self._pwm is not None:
            self._call(self._pwm.ChangeDutyCycle, 0.0)
            self._call(self._pwm.stop)
            self._pwm = None

    def _hw_watch(self):
        gpio = self._gpio
        self._call(gpio.add_event_detect, self._channel, gpio.BOTH, callback=self._module_edge)

    def _module_edge(self, channel):
        if not self.closed:
            self._edge(int(self._gpio.input(self._channel)))

    def _hw_unwatch(self):
        self._call(self._gpio.remove_event_detect, self._channel)

    def _hw_release(self):
        if self._set_up:
            self._call(self._gpio.cleanup, self._channel)
            self._set_up = False


class RPiGPIOFactory(Factory):
    """Pins of ``board`` through ``module`` (Jetson.GPIO, RPi.GPIO, rpi-lgpio or a stand-in).

    The module's numbering mode is set to BOARD unless the program already chose BCM, which is
    then followed; this factory's own ``numbering`` is independent of it.
    """

    backend = "rpigpio"

    def __init__(self, module, board, clock=None, numbering="BOARD"):
        super().__init__(board, clock, numbering)
        self.module = module
        mode = module.getmode()
        if mode is None:
            module.setmode(module.BOARD)
            mode = module.BOARD
        if mode not in (module.BOARD, module.BCM):
            raise GPIOSetupError(
                f"the GPIO module is in numbering mode {mode!r}; hal needs BOARD or BCM, so "
                "create the factory before calling setmode(CVM/TEGRA_SOC) (names are accepted "
                "by factory.pin())"
            )
        self.module_mode = "BOARD" if mode == module.BOARD else "BCM"

    def _make_pin(self, number):
        return RPiGPIOPin(self, number)
