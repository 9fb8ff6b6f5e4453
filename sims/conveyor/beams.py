"""Break-beams across the belt: the receiver's output is high while clear, low while broken."""


class BreakBeam:
    """One beam at ``x`` mm. ``bounce`` is the probability that an edge bounces (the noisy
    beam fault): the output flickers back and forth once within 0.2..1.5 ms of the edge."""

    def __init__(self, x, rng, bounce=0.0):
        self.x = x
        self.level = 1
        self._blocking = set()
        self._rng, self._bounce = rng, bounce

    def update(self, moves, t0, t1):
        """Items moved during ``t0..t1``; ``moves`` is [(item, old x, new x)].

        Returns ([(t, level)] output edges, [(item, t)] items that started breaking the beam).
        """
        changes = []
        for item, x0, x1 in moves:
            before = x0 - item.hx <= self.x <= x0 + item.hx
            after = x1 - item.hx <= self.x <= x1 + item.hx
            if before == after or x1 == x0:
                continue
            forward = x1 > x0
            edge = (x0 + item.hx) if forward == after else (x0 - item.hx)  # the edge that crossed
            f = min(max((self.x - edge) / (x1 - x0), 0.0), 1.0)
            changes.append((t0 + f * (t1 - t0), item, after))
        changes.sort(key=lambda c: c[0])
        edges, entered = [], []
        for t, item, blocks in changes:
            was_clear = not self._blocking
            (self._blocking.add if blocks else self._blocking.discard)(item.id)
            if blocks:
                entered.append((item, t))
            level = 0 if self._blocking else 1
            if was_clear == bool(self._blocking):  # the output changed
                edges.extend(self._edge(t, level, t1))
        return edges, entered

    def forget(self, item):
        """``item`` left the belt; returns the output edge this causes at once, if any."""
        if item.id in self._blocking:
            self._blocking.discard(item.id)
            if not self._blocking:
                return [(None, 1)]
        return []

    def _edge(self, t, level, t_max):
        self.level = level
        if not (self._bounce and self._rng.uniform() < self._bounce):
            return [(t, level)]
        back = min(t + self._rng.uniform(0.0002, 0.0015), t_max)
        again = min(back + self._rng.uniform(0.0002, 0.0015), t_max)
        return [(t, level), (back, 1 - level), (again, level)]
