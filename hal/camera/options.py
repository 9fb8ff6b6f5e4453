"""Camera options: each is named, typed and checked, whether it came from a URI or a keyword.

A query string carries every value as text ("csi://0?flip=2"), a keyword may carry it typed
(``flip=2``); each kind below accepts both and returns the typed value, or raises ValueError
with a sentence saying what it accepts.
"""

from collections import namedtuple


class Option(namedtuple("Option", "name kind help")):
    """A named option; `kind` turns a raw value into a typed one or raises ValueError."""

    __slots__ = ()

    def parse(self, value):
        return self.kind(value)

    def describe(self):
        return f"{self.name} ({self.help})"


def integer(low=None, high=None):
    """An int, optionally within [low, high]."""

    def parse(value):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError(f"expected a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise ValueError(f"expected a whole number, got {value!r}") from None
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValueError(f"expected {_span(low, high)}, got {number}")
        return number

    return parse


def number(low=0.0):
    """A positive float (a frame rate): above `low`."""

    def parse(value):
        try:
            result = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not result > low:
            raise ValueError(f"expected a number above {low:g}, got {value!r}")
        return result

    return parse


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def boolean(value):
    """A bool: True/False, or 1/0, true/false, yes/no, on/off as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, got {value!r}")


def choice(*names):
    """One of `names` (case-insensitive)."""

    def parse(value):
        text = str(value).strip().lower()
        if text not in names:
            raise ValueError(f"expected one of {', '.join(names)}, got {value!r}")
        return text

    return parse


def _span(low, high):
    if high is None:
        return f"a whole number >= {low}"
    if low is None:
        return f"a whole number <= {high}"
    return f"a whole number from {low} to {high}"
