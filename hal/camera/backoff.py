"""Backoff: the growing wait between attempts to reopen a camera that dropped out."""


class Backoff:
    """Delays of `initial` seconds, multiplied by `factor` after each failure, at most `maximum`.

    >>> b = Backoff(initial=0.5, factor=2, maximum=3)
    >>> [b.next() for _ in range(5)]
    [0.5, 1.0, 2.0, 3, 3]
    >>> b.reset(); b.next()
    0.5
    """

    def __init__(self, initial=0.5, factor=2.0, maximum=10.0):
        if not 0 < initial <= maximum or factor < 1:
            raise ValueError(
                f"backoff needs 0 < initial <= maximum and factor >= 1, got initial={initial!r}, "
                f"factor={factor!r}, maximum={maximum!r}"
            )
        self.initial, self.factor, self.maximum = initial, factor, maximum
        self._delay = initial

    def next(self):
        """The delay to wait now; the one after it will be longer (up to the maximum)."""
        delay = self._delay
        self._delay = min(self._delay * self.factor, self.maximum)
        return delay

    @property
    def upcoming(self):
        """The delay the next call to next() will return."""
        return self._delay

    def reset(self):
        """Start again from `initial` (called once frames flow again)."""
        self._delay = self.initial
