"""The scheduler: which bin each tracked item goes to, and when its diverter moves.

Positions are belt coordinates (see apps.sorter.msgs.Tracks): an item with centre `b` and
half length `h` has its front at the upstream edge `zs` of diverter d's zone when the belt's
position is P = zs - b - h, and its rear past the zone's end `ze` at P = ze - b + h. Times
come from positions and the measured belt speed, and are re-derived as the speed changes.

For an item bound for diverter d, the paddle must be fully out when the item's front reaches
the zone, and must retract right after: extend at t_arrive - margin - slew, retract at
t_arrive + margin. While the paddle is not clear of the belt (from 10 % out to 10 % back),
no other item may be in the zone: one beside the paddle would be knocked off, one arriving
would be diverted into the wrong bin or jam. So a plan is sent only if

- the class is decided, mapped to a bin and voted with at least `min_confidence`;
- no known item is in the zone while the paddle is out (items ahead of it that must leave
  the zone, items behind it that must not arrive);
- the camera saw every stretch of belt that could hold such an item, in at least
  `min_coverage` frames: where the detector was down, lagging, or the camera froze, an item
  could be there unseen, so the item goes to reject instead;
- it can still be sent `lead` seconds before the paddle has to move.

Anything else goes to reject: no actuation. Each break-beam, just upstream of its diverter,
confirms the items: a break matched to a track corrects its position (and so its timing),
the clear that follows measures its length; an unmatched break is an item nobody saw, which
cancels any plan it would collide with. Plans stay in the scheduler, re-timed as the speed
and these corrections come in, until `send_ahead` seconds before their paddle must move;
then they go to the io node as a DiverterCommand, final.
"""

import collections

import numpy as np

from nanobot.msgs import GpioEvent, KeyValue
from nanobot.node import Input, Node, Output, Param

from .history import BeltHistory
from .io import KEEPALIVE
from .msgs import BeltState, DiverterCommand, Tracks

REJECT = "reject"

# Why an item was not diverted (the report counts them).
REJECT_CLASS = "reject class"  # its class goes to the reject bin by configuration
UNDECIDED = "undecided"  # too few views to vote
LOW_CONFIDENCE = "low confidence"
NEIGHBOUR = "neighbour"  # another item would be beside the paddle or arrive while it is out
UNOBSERVED = "unobserved"  # the camera did not see all of the belt around it
TOO_LATE = "too late"  # decided too late to move the paddle in time
CANCELLED = "cancelled"  # planned, then a beam found an unseen item in the way
STOPPED = "belt stopped"  # the belt stopped with the plan pending


class Geometry:
    """The cell as the scheduler needs it (mm and seconds).

    diverters: x of each paddle; beams: x of each break-beam (one per diverter, upstream of
    it); reach: length of belt a paddle sweeps; view_end: x where the camera's view ends;
    slew_s: time the servo takes from retracted to extended; item_max_mm: the longest item.
    """

    def __init__(self, diverters, beams, reach, view_end, slew_s, item_max_mm=60.0):
        if len(beams) != len(diverters):
            raise ValueError("the geometry needs one beam per diverter")
        self.diverters = [float(x) for x in diverters]
        self.beams = [float(x) for x in beams]
        self.reach = float(reach)
        self.view_end = float(view_end)
        self.slew_s = float(slew_s)
        self.item_max_mm = float(item_max_mm)

    def zone(self, d):
        return self.diverters[d] - self.reach / 2, self.diverters[d] + self.reach / 2


class Item:
    """The scheduler's view of one item (a track, or an unseen item a beam found)."""

    def __init__(self, item_id, belt_mm, length_mm, seen=True):
        self.id = item_id
        self.belt_mm = belt_mm
        self.length_mm = length_mm
        self.seen = seen
        self.class_name = None
        self.confidence = 0.0
        self.frames = 0
        self.decided = False  # the bin is chosen (plan or reject)
        self.target = None  # diverter index, or None for reject
        self.reason = None  # why rejected
        self.plan = None  # (extend_at, retract_at) ns
        self.sent = False  # the plan went to the io node: it is final
        self.beams = set()  # beams that confirmed it
        self.stamp = 0  # image stamp of the newest view

    @property
    def half(self):
        return self.length_mm / 2

    def arrival(self, zone_start):
        """Belt position at which the item's front reaches `zone_start`."""
        return zone_start - self.belt_mm - self.half

    def presence(self, zone):
        """(from, to) belt positions during which the item is beside or at zone."""
        return zone[0] - self.belt_mm - self.half, zone[1] - self.belt_mm + self.half


Command = collections.namedtuple("Command", "diverter extend_at retract_at item_id")
Command.__doc__ = """A DiverterCommand to send (final: the io node executes it as sent)."""

Decision = collections.namedtuple("Decision", "item_id class_name target reason stamp arrive_at")
Decision.__doc__ = """What was decided for an item: target diverter or None, the reason for a
reject, the image stamp the decision rests on, and (for a target) when the item is due at its
paddle (ns). Unseen items (a beam break no track explains) have negative ids."""


class Scheduler:
    """Plans diverter commands from tracks, belt states and beam edges; see module docstring.

    bins: {class name: diverter index}; classes not in it go to reject.
    Times are ns on the graph clock; `position` arguments are the belt's position (mm) then.
    Each method returns the Commands to send; `decisions` collects what was decided.
    """

    def __init__(self, geometry, bins, min_confidence=0.8, margin_s=0.02, margin_mm=4.0,
                 lead_s=0.05, send_ahead_s=0.1, min_coverage=3, beam_gate_mm=20.0,
                 min_speed=10.0):  # fmt: skip
        self.geometry = geometry
        self.bins = dict(bins)
        for name, d in self.bins.items():
            if not 0 <= d < len(geometry.diverters):
                raise ValueError(
                    "class %r is mapped to diverter %r, but the cell has diverters 0..%d"
                    % (name, d, len(geometry.diverters) - 1)
                )
        self.min_confidence = min_confidence
        self.margin_s = margin_s
        self.margin_mm = margin_mm
        self.lead_ns = int(lead_s * 1e9)
        self.min_coverage = min_coverage
        self.beam_gate_mm = beam_gate_mm
        self.send_ahead_ns = int(max(send_ahead_s, lead_s) * 1e9)
        self.stale_ns = int(0.2e9)  # an item with no view this long is decided on the belt's beat
        self.min_speed = min_speed
        self.items = collections.OrderedDict()  # id -> Item, in order of appearance
        self.decisions = []
        self.unseen = 0  # beam breaks that matched no track
        self._coverage = collections.deque(maxlen=600)  # (from, to) of frames, belt coords
        self._unseen_ids = -1
        self._breaking = {}  # beam -> (item, belt position) of the break not yet cleared
        self.speed = 0.0
        self.position = 0.0
        self.now = 0

    # ---- inputs

    def belt(self, now, position, speed, running=True):
        """A belt state: re-time pending plans, decide items leaving the view."""
        self.now, self.position, self.speed = now, position, speed
        if not running or speed < self.min_speed:
            return self._stop_pending()
        out = self._decide_due(stale_ns=self.stale_ns)
        out.extend(self._retime())
        self._forget()
        return out

    def tracks(self, now, position, speed, msg):
        """A Tracks message (apps.sorter.msgs.Tracks), `position` the belt position now."""
        self.now, self.position, self.speed = now, position, speed
        if msg.seen_from <= msg.seen_to:
            self._coverage.append((msg.seen_from, msg.seen_to))
        names = msg.class_names or []
        for i, tid in enumerate(msg.ids.tolist()):
            item = self.items.get(tid)
            if item is None:
                item = self.items[tid] = Item(tid, 0.0, 0.0)
            if item.decided:
                continue  # its plan was made on the views up to then
            cid = int(msg.class_ids[i])
            item.belt_mm = float(msg.belt_mm[i])
            item.length_mm = float(msg.length_mm[i])
            item.class_name = names[cid] if 0 <= cid < len(names) else None
            item.confidence = float(msg.confidence[i])
            item.frames = int(msg.frames[i])
            item.stamp = msg.stamp
        if not speed >= self.min_speed:
            return []
        return self._decide_due()

    def beam_break(self, beam, position):
        """Beam `beam` was broken (debounced) when the belt was at `position`."""
        g = self.geometry
        xb = g.beams[beam]
        best, best_err = None, self.beam_gate_mm
        for item in self.items.values():
            if beam in item.beams:
                continue
            err = abs(position - item.arrival(xb))
            if err < best_err:
                best, best_err = item, err
        self._breaking[beam] = (best, position)
        if best is not None:
            best.beams.add(beam)
            best.belt_mm = xb - best.half - position  # its front is at the beam now
            return self._retime()
        self.unseen += 1
        half = g.item_max_mm / 2
        item = Item(self._unseen_ids, xb - half - position, g.item_max_mm, seen=False)
        item.beams.add(beam)
        self._breaking[beam] = (item, position)
        self._unseen_ids -= 1
        self.items[item.id] = item
        item.decided = True
        self._reject(item, UNOBSERVED)
        return self._retime()

    def beam_clear(self, beam, position):
        """Beam `beam` cleared when the belt was at `position`: the item that broke it has
        passed whole, so its length along the belt is measured (the camera's box can be off
        for odd shapes; the beam sees the outline that collides with a paddle)."""
        item, broken_at = self._breaking.pop(beam, (None, None))
        if item is None or position <= broken_at:
            return []
        item.length_mm = position - broken_at
        item.belt_mm = self.geometry.beams[beam] - broken_at - item.half
        return self._retime()

    # ---- deciding

    def _decide_due(self, stale_ns=0):
        """Decide every item whose front has reached the end of the camera's view (with
        `stale_ns`, only those with no view for that long: the tracker lost them)."""
        out = []
        for item in self.items.values():
            if item.decided or not item.seen or self.now - item.stamp < stale_ns:
                continue
            if item.belt_mm + self.position + item.half < self.geometry.view_end:
                continue
            out.extend(self._decide(item))
        return out

    def _decide(self, item):
        item.decided = True
        if item.class_name is None:
            return self._reject(item, UNDECIDED)
        target = self.bins.get(item.class_name)
        if target is None:
            return self._reject(item, REJECT_CLASS)
        if item.confidence < self.min_confidence:
            return self._reject(item, LOW_CONFIDENCE)
        item.target = target
        plan, reason = self._plan(item)
        if plan is None:
            item.target = None
            return self._reject(item, reason)
        item.plan = plan
        arrive_at = self._time_at(item.arrival(self.geometry.zone(target)[0]))
        self.decisions.append(
            Decision(item.id, item.class_name, target, None, item.stamp, arrive_at)
        )
        return self._flush()

    def _reject(self, item, reason):
        item.reason = reason
        self.decisions.append(Decision(item.id, item.class_name, None, reason, item.stamp, 0))
        return []

    def _time_at(self, position):
        """Graph time (ns) at which the belt reaches `position`, at the current speed."""
        return self.now + int((position - self.position) / self.speed * 1e9)

    def _plan(self, item, check_coverage=True):
        """((extend_at, retract_at), None) for `item` to its target, or (None, reason)."""
        g, d = self.geometry, item.target
        zone = g.zone(d)
        v = self.speed
        margin = max(self.margin_s, self.margin_mm / v)
        arrive = item.arrival(zone[0])
        t_arrive = self._time_at(arrive)
        extend_at = t_arrive - int((margin + g.slew_s) * 1e9)
        retract_at = t_arrive + int(margin * 1e9)
        # a plan of the same paddle ending just before: stay out between the two
        for other in self._planned(d, exclude=item):
            if other.arrival(zone[0]) < arrive and other.plan[1] + g.slew_s * 1e9 >= extend_at:
                extend_at = min(extend_at, other.plan[1])
        if extend_at < self.now + self.lead_ns:
            return None, TOO_LATE
        # the stretch of belt positions during which the paddle is not clear of the belt
        lo = arrive - (t_arrive - extend_at) / 1e9 * v + 0.1 * g.slew_s * v - self.margin_mm
        hi = arrive + margin * v + 0.9 * g.slew_s * v + self.margin_mm
        for other in self.items.values():
            if other is item or (other.plan is not None and other.target <= d):
                continue  # diverted before it gets here, or at this paddle's own plan
            p0, p1 = other.presence(zone)
            if p0 <= hi and p1 >= lo:
                return None, NEIGHBOUR
        half = g.item_max_mm / 2
        if check_coverage and not self._covered(zone[0] - half - hi, zone[1] + half - lo):
            return None, UNOBSERVED
        return (extend_at, retract_at), None

    def _planned(self, d, exclude=None):
        return [
            i
            for i in self.items.values()
            if i.target == d and i.plan is not None and i is not exclude
        ]

    def _covered(self, lo, hi):
        """True if every point of [lo, hi] (belt coords) was shown whole by enough frames."""
        if not self._coverage:
            return False
        spans = np.array(self._coverage)
        spans = spans[(spans[:, 1] > lo) & (spans[:, 0] < hi)]
        if len(spans) < self.min_coverage:
            return False
        cuts = np.unique(np.clip(np.concatenate([spans.ravel(), [lo, hi]]), lo, hi))
        mids = (cuts[:-1] + cuts[1:]) / 2 if len(cuts) > 1 else cuts
        counts = ((spans[:, :1] <= mids[None, :]) & (spans[:, 1:] >= mids[None, :])).sum(0)
        return bool(counts.min() >= self.min_coverage)

    def _retime(self):
        """Re-derive the plans not sent yet from the newest positions and speed; drop those
        that now collide with an item; send those due within `send_ahead`."""
        for item in list(self.items.values()):
            if item.plan is None or item.sent:
                continue
            plan, reason = self._plan(item, check_coverage=False)
            if plan is not None:
                item.plan = plan
            elif reason != TOO_LATE:  # too late by a hair: the margins take it
                item.plan, item.target = None, None
                self._reject(item, CANCELLED)
        return self._flush()

    def _flush(self):
        """Commands for the plans due to start within `send_ahead` (then final)."""
        out = []
        due = self.now + self.send_ahead_ns
        for item in self.items.values():
            if item.plan is not None and not item.sent and item.plan[0] <= due:
                item.sent = True
                out.append(Command(item.target, item.plan[0], item.plan[1], item.id))
        return out

    def _stop_pending(self):
        """The belt stopped (the io node drops what it was sent): reject every plan."""
        for item in self.items.values():
            if item.plan is not None:
                item.plan, item.target = None, None
                self._reject(item, STOPPED)
        return []

    def _forget(self):
        """Drop items past the last diverter."""
        end = self.geometry.diverters[-1] + self.geometry.reach
        for tid in [i.id for i in self.items.values() if i.belt_mm + self.position - i.half > end]:
            del self.items[tid]


class Debouncer:
    """Break-beam edges -> "break" / "clear" events: a falling edge is an item breaking the
    beam only after the line has been steady for `hold_s` (a bounce is a short extra pulse
    right after an edge), and so is a rising edge the item's rear leaving."""

    BREAK, CLEAR = "break", "clear"

    def __init__(self, hold_s=0.003):
        self.hold_ns = int(hold_s * 1e9)
        self._last = {}  # beam -> stamp of the last raw edge
        self._broken = set()

    def edge(self, beam, level, stamp):
        """ "break", "clear" or None (a bounce) for this raw edge."""
        previous = self._last.get(beam)
        self._last[beam] = stamp
        if level == 0:
            if previous is None or stamp - previous >= self.hold_ns:
                self._broken.add(beam)
                return self.BREAK
            return None
        if beam in self._broken and stamp - previous >= self.hold_ns:
            self._broken.discard(beam)
            return self.CLEAR
        return None


class SchedulerNode(Node):
    """Sends DiverterCommands for tracked items; see the module docstring.

    Publishes `decisions` (one KeyValue per decision: item, class, target or reject reason,
    latency from frame capture to the decision) and, every `heartbeat_period` seconds, a
    keepalive DiverterCommand (diverter -1) that the io node's watchdog listens for.
    """

    tracks = Input(Tracks, keep_all=100)
    belt = Input(BeltState, keep_all=1000)
    beams = Input(GpioEvent, keep_all=1000)
    commands = Output(DiverterCommand)
    decisions = Output(KeyValue, topic="scheduler/decisions")

    bins = Param({}, help="class name -> diverter index; other classes go to reject")
    geometry = Param({}, help="diverters, beams, reach, view_end, slew_s, item_max_mm")
    min_confidence = Param(0.8, min=0.0, max=1.0, help="class votes below this go to reject")
    margin_s = Param(0.02, min=0.0, help="timing margin on each side of an arrival, s")
    lead_s = Param(0.05, min=0.0, help="least time between sending a command and its start, s")
    min_coverage = Param(3, min=1, help="frames that must have shown the belt around an item")
    send_ahead_s = Param(0.1, min=0.0, help="how long before the paddle moves a plan is sent, s")
    heartbeat_period = Param(0.1, min=0.01, help="seconds between keepalives to the io node")

    def setup(self):
        self.history = BeltHistory()
        self.debouncer = Debouncer()
        self.scheduler = Scheduler(
            Geometry(**self.geometry),
            self.bins,
            min_confidence=self.min_confidence,
            margin_s=self.margin_s,
            lead_s=self.lead_s,
            send_ahead_s=self.send_ahead_s,
            min_coverage=self.min_coverage,
        )
        self._published = 0
        self.every(self.heartbeat_period, self._beat)

    def _state(self):
        now = self.now_ns()
        return now, self.history.position_at(now), self.history.speed

    def on_belt(self, msg):
        self.history.add(msg.stamp, msg.position_mm, msg.speed_mm_s, msg.running)
        now, position, speed = self._state()
        self._send(self.scheduler.belt(now, position, speed, msg.running))

    def on_tracks(self, msg):
        if self.history.stamp is None:
            return
        now, position, speed = self._state()
        self._send(self.scheduler.tracks(now, position, speed, msg))

    def on_beams(self, msg):
        if not msg.name.startswith("beam") or self.history.stamp is None:
            return
        beam = int(msg.name[4:])
        event = self.debouncer.edge(beam, msg.level, msg.stamp)
        if event is not None:
            self.scheduler.now = self.now_ns()
            position = self.history.position_at(msg.stamp)
            if event == Debouncer.BREAK:
                self._send(self.scheduler.beam_break(beam, position))
            else:
                self._send(self.scheduler.beam_clear(beam, position))

    def _send(self, commands):
        for c in commands:
            self.commands.publish(
                DiverterCommand(
                    diverter=c.diverter,
                    extend_at=c.extend_at,
                    retract_at=c.retract_at,
                    item_id=c.item_id,
                )
            )
        decisions = self.scheduler.decisions
        now = self.now_ns()
        while self._published < len(decisions):
            d = decisions[self._published]
            self._published += 1
            values = {
                "item": d.item_id,
                "class": d.class_name,
                "target": d.target,
                "reason": d.reason,
            }
            if d.target is not None:
                values["latency_ms"] = (now - d.stamp) / 1e6
                values["arrive_at"] = d.arrive_at
            self.decisions.publish(KeyValue(values=values))

    def _beat(self):
        self.commands.publish(DiverterCommand(diverter=KEEPALIVE))
