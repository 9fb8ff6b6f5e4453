"""The tracker: detections across frames become item tracks in belt coordinates.

Items ride the belt without slipping, so in belt coordinates (the x an item had when the
belt's position was 0: x - position) an item stands still while the belt moves. Each frame's
detections are converted to belt coordinates with the camera calibration and the belt
position at the frame's capture stamp (interpolated from the encoder's BeltState history);
association is then a matter of distance in that fixed frame: nearest pairs first, within a
gate. A track's class is a vote over its frames, weighted by the detector's scores.

Boxes cut by the image's left or right edge are matched by their uncut end; they keep their
track alive but neither move it nor vote (a cut box's centre is off and its class
uncertain), and start no track: an item's track starts when it is first seen whole. A
whole box that lands within the gate of a track another box of the frame already took is
the detector's second box on that item (two classes, or a part): it votes on that track and
starts none. A frame
whose detections repeat the previous frame's exactly while the belt has moved is a frozen
camera's repeat and is discarded whole.
"""

import itertools

import numpy as np

from nanobot.msgs import Detections
from nanobot.node import Input, Node, Output, Param

from .history import BeltHistory
from .msgs import BeltState, Tracks

__all__ = ["Calibration", "Track", "Tracker", "TrackerNode"]


class Calibration:
    """Pixels -> belt millimetres for a camera looking straight down: column u, row v see
    x = x0 + u / px_per_mm, y = y0 + v / px_per_mm (the form `python -m apps.sorter.calibrate`
    writes and sims.conveyor's Calibration uses)."""

    def __init__(self, width, height, px_per_mm, x0, y0):
        if px_per_mm <= 0:
            raise ValueError("calibration px_per_mm must be > 0, not %r" % (px_per_mm,))
        self.width, self.height = int(width), int(height)
        self.px_per_mm, self.x0, self.y0 = float(px_per_mm), float(x0), float(y0)

    @classmethod
    def from_dict(cls, d):
        missing = {"width", "height", "px_per_mm", "x0", "y0"} - set(d)
        if missing:
            raise ValueError(
                "calibration needs %s; run python -m apps.sorter.calibrate to measure it"
                % ", ".join(sorted(missing))
            )
        return cls(d["width"], d["height"], d["px_per_mm"], d["x0"], d["y0"])

    def to_belt(self, u, v):
        return self.x0 + u / self.px_per_mm, self.y0 + v / self.px_per_mm

    @property
    def view(self):
        """(x at the left edge, x at the right edge) of the image, belt mm."""
        return self.x0, self.x0 + self.width / self.px_per_mm


class Track:
    """One item followed across frames; positions in belt coordinates (see module doc)."""

    def __init__(self, track_id, n_classes, stamp):
        self.id = track_id
        self.belt_mm = 0.0
        self.lateral_mm = 0.0
        self.length_mm = 0.0
        self.votes = np.zeros(n_classes)
        self.frames = 0  # frames that saw the item whole
        self.sightings = 0  # frames that saw any of it
        self.first_stamp = self.last_stamp = stamp

    def observe(self, belt_mm, lateral_mm, length_mm, class_id, score, whole, stamp):
        self.sightings += 1
        self.last_stamp = stamp
        if not whole:
            if self.frames == 0:  # only cut views so far: better than nothing
                self.belt_mm, self.lateral_mm = belt_mm, lateral_mm
                self.length_mm = max(self.length_mm, length_mm)
            return
        self.frames += 1
        k = 1.0 / self.frames  # running means over whole views (the first sets them)
        self.belt_mm += (belt_mm - self.belt_mm) * k
        self.lateral_mm += (lateral_mm - self.lateral_mm) * k
        self.length_mm += (length_mm - self.length_mm) * k
        self.vote(class_id, score)

    def vote(self, class_id, score):
        """Add a whole view's class opinion, weighted by its score."""
        if 0 <= class_id < len(self.votes):
            self.votes[class_id] += score

    def decision(self, min_frames):
        """(class id, confidence): the vote's winner and its share of the votes; class -1
        while fewer than `min_frames` whole views have voted."""
        total = self.votes.sum()
        if self.frames < min_frames or total <= 0:
            return -1, 0.0
        best = int(np.argmax(self.votes))
        return best, float(self.votes[best] / total)


class Tracker:
    """Associates each frame's detections with tracks; see the module docstring.

    calibration  a Calibration; class_names: the detector's classes (for the vote)
    gate_mm      farthest a detection may lie from a track, in belt coordinates, to join it
    min_frames   whole views a track needs before its class is decided
    edge_px      a box within this many pixels of the left or right image edge is cut
    """

    def __init__(self, calibration, class_names, gate_mm=15.0, min_frames=3, edge_px=8.0):
        self.calibration = calibration
        self.class_names = list(class_names)
        self.gate_mm = gate_mm
        self.min_frames = min_frames
        self.edge_px = edge_px
        self.tracks = []  # live tracks, in creation order
        self.frozen_frames = 0
        self._ids = itertools.count(1)
        self._previous = None  # (boxes bytes, scores bytes, position) of the last frame

    def update(self, stamp, position, boxes, scores, class_ids):
        """Take one frame's detections (boxes N x 4 pixels, scores N, class ids N) taken at
        `stamp` (ns) with the belt at `position` (mm); returns the (from, to) stretch of
        belt coordinates the frame showed whole, or None for a discarded (frozen) frame."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        key = (boxes.tobytes(), np.asarray(scores).tobytes())
        if (
            self._previous is not None
            and key == self._previous[:2]
            and abs(position - self._previous[2]) > 1.0
        ):
            self.frozen_frames += 1
            return None
        self._previous = (*key, position)
        cal = self.calibration
        x_left, x_right = cal.view
        self._retire(position, x_right)
        u = (boxes[:, 0] + boxes[:, 2]) / 2
        v = (boxes[:, 1] + boxes[:, 3]) / 2
        x, y = cal.to_belt(u, v)
        belt = x - position
        length = (boxes[:, 2] - boxes[:, 0]) / cal.px_per_mm
        # a cut box's centre is off: match it by its uncut end, and start no track from it
        cut_left = boxes[:, 0] <= self.edge_px
        cut_right = boxes[:, 2] >= cal.width - self.edge_px
        whole = ~(cut_left | cut_right)
        end = np.where(cut_left, boxes[:, 2], boxes[:, 0])
        end_belt = cal.to_belt(end, v)[0] - position
        matched = self._associate(belt, y, whole, end_belt, cut_left)
        for i in range(len(boxes)):
            track = matched.get(i)
            if track is None:
                if not whole[i]:
                    continue
                twin = self._nearest(belt[i], y[i])
                if twin is not None:  # a second box on a tracked item: its class still votes
                    twin.vote(int(class_ids[i]), float(scores[i]))
                    continue
                track = Track(next(self._ids), len(self.class_names), stamp)
                self.tracks.append(track)
            track.observe(
                belt[i], y[i], length[i], int(class_ids[i]), float(scores[i]), bool(whole[i]), stamp
            )
        margin = self.edge_px / cal.px_per_mm
        return x_left + margin - position, x_right - margin - position

    def _associate(self, belt, lateral, whole, end_belt, cut_left):
        """{detection index: track}: nearest pairs first, each at most once, within the gate.
        Whole boxes are compared by centre, cut ones by their uncut end (front or rear)."""
        if not self.tracks or not len(belt):
            return {}
        tb = np.array([t.belt_mm for t in self.tracks])
        tl = np.array([t.lateral_mm for t in self.tracks])
        half = np.array([t.length_mm / 2 for t in self.tracks])
        along = np.where(
            whole[:, None],
            belt[:, None] - tb[None, :],
            end_belt[:, None] - np.where(cut_left[:, None], tb + half, tb - half),
        )
        d = np.hypot(along, lateral[:, None] - tl[None, :])
        out, used = {}, set()
        for flat in np.argsort(d, axis=None):
            i, j = divmod(int(flat), len(self.tracks))
            if d[i, j] > self.gate_mm:
                break
            if i in out or j in used:
                continue
            out[i] = self.tracks[j]
            used.add(j)
        return out

    def _nearest(self, belt_mm, lateral_mm):
        """The track within the gate of (belt_mm, lateral_mm), if any. Called for a whole box
        no track took: the track it finds already has this frame's box, so this one is the
        detector's duplicate of the same item (two items' centres lie at least the shortest
        item's length apart, more than the gate)."""
        for track in self.tracks:
            if np.hypot(belt_mm - track.belt_mm, lateral_mm - track.lateral_mm) <= self.gate_mm:
                return track
        return None

    def _retire(self, position, x_right):
        """Forget tracks that have left the view (wholly past its downstream edge)."""
        self.tracks = [
            t
            for t in self.tracks
            if t.belt_mm + position - t.length_mm / 2 < x_right + self.gate_mm
        ]

    def message(self, stamp, seen=None):
        """The live tracks as a Tracks message."""
        decisions = [t.decision(self.min_frames) for t in self.tracks]
        seen_from, seen_to = seen if seen is not None else (0.0, -1.0)
        return Tracks(
            stamp=stamp,
            ids=np.array([t.id for t in self.tracks], np.int64),
            class_ids=np.array([c for c, _ in decisions], np.int32),
            confidence=np.array([p for _, p in decisions], np.float32),
            belt_mm=np.array([t.belt_mm for t in self.tracks], np.float64),
            lateral_mm=np.array([t.lateral_mm for t in self.tracks], np.float32),
            length_mm=np.array([t.length_mm for t in self.tracks], np.float32),
            frames=np.array([t.frames for t in self.tracks], np.int32),
            class_names=self.class_names,
            seen_from=float(seen_from),
            seen_to=float(seen_to),
        )


class TrackerNode(Node):
    """Publishes Tracks for every Detections message, in belt coordinates."""

    detections = Input(Detections, keep_all=100)
    belt = Input(BeltState, keep_all=1000)
    tracks = Output(Tracks)

    calibration = Param({}, help="pixels -> belt mm: width, height, px_per_mm, x0, y0")
    classes = Param([], help="class names in the detector's order (default: the detector's)")
    gate_mm = Param(15.0, min=1.0, help="farthest a detection may be from its track, mm")
    min_frames = Param(3, min=1, help="whole views a track needs before its class counts")

    def setup(self):
        self.history = BeltHistory()
        self.tracker = None
        self.cal = Calibration.from_dict(self.calibration)
        self.waited = 0  # detections that came before any belt state

    def on_belt(self, msg):
        self.history.add(msg.stamp, msg.position_mm, msg.speed_mm_s, msg.running)

    def on_detections(self, msg):
        stamp = msg.image_stamp or msg.stamp
        if self.history.stamp is None:
            self.waited += 1
            return
        if self.tracker is None:
            names = self.classes or list(msg.class_names)
            self.tracker = Tracker(self.cal, names, self.gate_mm, self.min_frames)
        position = self.history.position_at(stamp)
        seen = self.tracker.update(stamp, position, msg.boxes, msg.scores, msg.class_ids)
        self.tracks.publish(self.tracker.message(stamp, seen), stamp=stamp)
