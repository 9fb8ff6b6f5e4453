"""What every device shares: its factory, the pins and PWM outputs it owns, and closing.

Devices are context managers, release what they own on :meth:`Device.close`, and any still
open at interpreter exit are closed then (motors stop, servos detach, outputs go inactive).
"""

import atexit
import contextlib
import itertools
import threading
import weakref

from hal.gpio import default_factory

__all__ = ["Device", "is_pwm_output"]

_open = weakref.WeakValueDictionary()  # creation order -> device
_order = itertools.count()


def is_pwm_output(obj):
    """True for a "PWM output": ``frequency`` (Hz) and ``duty_cycle`` (0..1), and ``close()``."""
    return all(hasattr(obj, name) for name in ("frequency", "duty_cycle", "close"))


class Device:
    """Base of the devices: owns pins claimed from ``factory`` (default: the process's)."""

    def __init__(self, factory=None):
        self.factory = factory if factory is not None else default_factory()
        self._owned = []
        self._lock = threading.RLock()
        self.closed = False
        _open[next(_order)] = self

    def __repr__(self):
        pins = ", ".join(str(getattr(o, "number", o)) for o in self._owned)
        return "<{} on {}{}>".format(
            type(self).__name__,
            pins or "nothing",
            " closed" if self.closed else "",
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @contextlib.contextmanager
    def _building(self):
        """Wrap a constructor's claims: on failure, release what was claimed, then re-raise."""
        try:
            yield
        except BaseException:
            self.close()
            raise

    def _pin(self, channel, function, **settings):
        """Claim ``channel`` as ``function`` ("input"/"output"), applying ``settings`` first."""
        self._check_pin(channel, "an " + function)
        pin = self.factory.pin(channel)
        self._owned.append(pin)
        for name, value in settings.items():
            setattr(pin, name, value)
        pin.function = function
        return pin

    def _pwm(self, target, frequency):
        """A PWM output: ``target`` itself if it is one, else a hardware PWM pin claimed here."""
        if is_pwm_output(target):
            output = target
            output.frequency = frequency
        else:
            self._check_pin(target, "PWM")
            output = self.factory.pin(target)
            self._owned.append(output)
            output.frequency = frequency
        if output not in self._owned:
            self._owned.append(output)
        return output

    def _check_pin(self, channel, use):
        """Fail before claiming if ``channel`` cannot serve ``use``, in words naming the use."""
        board = self.factory.board
        number = board.resolve(channel, self.factory.numbering)
        if use == "PWM":
            board.check_pwm(number)
        else:
            board.check_gpio(number, use)

    def _check_open(self):
        if self.closed:
            raise RuntimeError(f"{self} is closed; create a new one to use it again")

    def _shutdown(self):
        """Put the hardware in its safe state before release (overridden by devices)."""

    def close(self):
        """Bring the device to its safe state and release every pin and output it owns."""
        with self._lock:
            if self.closed:
                return
            try:
                if not any(getattr(owned, "closed", False) for owned in self._owned):
                    self._shutdown()  # else the factory was closed first and made pins safe
            finally:
                self.closed = True
                for owned in reversed(self._owned):
                    owned.close()


@atexit.register
def _close_open_devices():
    for key in sorted(_open.keys(), reverse=True):
        device = _open.get(key)
        if device is not None:
            device.close()
