"""Choosing the GPIO backend and the board: explicitly, by NANOBOT_HAL, or by detection.

The choice is logged; the simulator is never substituted for a real backend that was asked for
(asking for "jetson" where Jetson.GPIO cannot be imported is an error that says what to do).
"""

import atexit
import importlib
import logging
import os
import threading

from hal.boards import BOARDS, PinUsageError
from hal.gpio.guidance import GPIOSetupError, missing_module, no_permission
from hal.platform import detect

__all__ = ["BACKENDS", "default_factory", "get_factory", "set_default_factory"]

log = logging.getLogger("hal.gpio")

BACKENDS = ("sim", "jetson", "rpi", "auto")
_MODULES = {"jetson": "Jetson.GPIO", "rpi": "RPi.GPIO"}


def _import_module(backend):
    name = _MODULES[backend]
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise GPIOSetupError(missing_module(backend, error)) from error
    except RuntimeError as error:  # Jetson.GPIO: /dev/gpiochip0 not writable
        raise GPIOSetupError(no_permission(str(error))) from error
    except Exception as error:  # Jetson.GPIO: "Could not determine Jetson model"
        raise GPIOSetupError(
            f"{name} could not start on this machine ({error}); on a Jetson in a container set "
            "JETSON_MODEL_NAME (e.g. JETSON_NANO), elsewhere use NANOBOT_HAL=sim"
        ) from error


def get_factory(backend=None, board=None, clock=None, module=None, root="/"):
    """A GPIO factory for ``backend`` ("sim", "jetson", "rpi", "auto") and ``board``.

    ``backend`` defaults to the NANOBOT_HAL environment variable, then "auto": the real backend
    on a detected Jetson or Raspberry Pi, the simulator elsewhere. ``board`` defaults to the
    detected one (the simulator falls back to "jetson-nano"). ``module`` replaces the imported
    RPi.GPIO-style module (tests pass a stand-in); ``clock`` stamps events; ``root`` is where
    detection looks for the device tree (see :func:`hal.platform.detect`).
    """
    requested = backend or os.environ.get("NANOBOT_HAL") or "auto"
    name = requested.lower()
    if name not in BACKENDS:
        raise PinUsageError(
            "unknown GPIO backend {!r} (from {}); choose one of {}".format(
                requested, "the argument" if backend else "NANOBOT_HAL", ", ".join(BACKENDS)
            )
        )
    detected = detect(root).name
    reason = "requested"
    if name == "auto":
        if detected is None:
            name, reason = "sim", "auto: no Jetson or Raspberry Pi detected"
        else:
            name = "rpi" if detected.startswith("rpi") else "jetson"
            reason = f"auto: detected {BOARDS[detected].title}"
    if name == "sim":
        from hal.gpio.sim import SimFactory

        factory = SimFactory(board or detected or "jetson-nano", clock=clock)
    else:
        chosen = board or detected
        if chosen is None:
            raise GPIOSetupError(
                "the {} GPIO backend was requested but no supported board was detected in {}; "
                "pass board= (one of {}) or use NANOBOT_HAL=sim".format(
                    name, os.path.join(root, "proc/device-tree"), ", ".join(BOARDS)
                )
            )
        from hal.gpio.rpigpio import RPiGPIOFactory

        factory = RPiGPIOFactory(module or _import_module(name), chosen, clock=clock)
        factory.backend = name
    log.info("GPIO backend: %s on the %s (%s)", factory.backend, factory.board.title, reason)
    return factory


_default = None
_default_lock = threading.Lock()


def default_factory():
    """The process-wide factory devices use when given none (created by get_factory())."""
    global _default
    with _default_lock:
        if _default is None or _default.closed:
            _default = get_factory()
        return _default


def set_default_factory(factory):
    """Make ``factory`` the one devices use when given none (returns the previous one)."""
    global _default
    with _default_lock:
        previous, _default = _default, factory
        return previous


@atexit.register
def _close_default():
    if _default is not None and not _default.closed:
        _default.close()
