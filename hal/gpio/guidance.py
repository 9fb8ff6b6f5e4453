"""What to do about the GPIO failures users hit on the board, as one-paragraph messages.

Each function returns the text of a :class:`GPIOSetupError`; :func:`explain` maps an exception
raised by Jetson.GPIO / RPi.GPIO / rpi-lgpio to one of them (or returns None).
"""

import errno

__all__ = [
    "GPIO_GROUP_FIX",
    "GPIOSetupError",
    "explain",
    "missing_module",
    "no_permission",
    "pwm_not_muxed",
]

GPIO_GROUP_FIX = (
    "add your user to the gpio group and install the udev rule that Jetson.GPIO ships: "
    "`sudo groupadd -f -r gpio; sudo usermod -a -G gpio $USER; sudo cp "
    "$(python3 -c 'import os, Jetson.GPIO as g; print(os.path.dirname(g.__file__))')"
    "/99-gpio.rules /etc/udev/rules.d/; sudo udevadm control --reload-rules; "
    "sudo udevadm trigger`, then log out and in again (or reboot)"
)


class GPIOSetupError(RuntimeError):
    """The GPIO backend cannot work on this machine as it is set up; the message says why."""


def no_permission(detail=""):
    return "this user may not open the GPIO character devices (/dev/gpiochip*){}; {}".format(
        f" ({detail})" if detail else "",
        GPIO_GROUP_FIX,
    )


def missing_module(backend, error):
    install = {
        "jetson": "`pip install Jetson.GPIO` (or `pip install nanobot[jetson]`)",
        "rpi": "`pip install rpi-lgpio` (Pi 5 and recent Raspberry Pi OS) or "
        "`pip install RPi.GPIO` (or `pip install nanobot[rpi]`)",
    }.get(backend, "the RPi.GPIO-style module")
    return (
        f"the {backend} GPIO backend needs its Python module, which cannot be imported "
        f"({error}); install {install}"
    )


def pwm_not_muxed(where, board):
    return "{} has no PWM controller enabled (Jetson.GPIO finds no pwmchip for it); {}".format(
        where,
        board.pwm_note or "enable the board's PWM overlay",
    )


def explain(error, where, board):
    """Guidance text for ``error`` raised while using ``where`` on ``board``, or None."""
    text = str(error)
    if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM):
        return no_permission(text)
    if "does not have permissions" in text or "No access to /dev/mem" in text:
        return no_permission(text)
    if "is not a PWM" in text:
        return pwm_not_muxed(where, board)
    if "busy" in text.lower():
        return f"{where} is held by another process ({text}); stop that process or use another pin"
    return None
