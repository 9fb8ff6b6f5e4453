"""The messages the sorter's own nodes exchange (the built-in ones cover images, detections
and GPIO events)."""

import numpy as np

from nanobot.msgs import Message, array


class BeltState(Message, type_name="sorter/BeltState"):
    """The belt as the io node measures it from the encoder, at `stamp` (ns, graph clock).

    `position_mm` is the belt travel since start (monotonic while running forward);
    `running` is false when stopped (e-stop, watchdog, not started).
    """

    stamp: int = 0
    speed_mm_s: float = 0.0
    position_mm: float = 0.0
    running: bool = False
    estop: bool = False


class Tracks(Message, type_name="sorter/Tracks"):
    """Items the tracker follows, as of the image taken at `stamp` (ns).

    Per track: id, class id (-1 while undecided), confidence of the class vote (0..1),
    position along the belt in belt coordinates, lateral position (mm across the belt,
    positive towards the bins), length along the belt (mm), frames seen.

    Belt coordinates: `belt_mm` is where the item sits on the belt, as the belt x (mm from
    the upstream end) it had when BeltState.position_mm was 0; its centre is at
    x = belt_mm + position_mm at any time. `seen_from`..`seen_to` is the stretch of belt (in
    the same coordinates) that this image showed whole: an item there with no track was not
    there, as far as the detector can tell (empty, from > to, for a frame the tracker
    discarded, such as a frozen camera's repeat).
    """

    stamp: int = 0
    ids: np.ndarray = array("int64", (0,))
    class_ids: np.ndarray = array("int32", (0,))
    confidence: np.ndarray = array("float32", (0,))
    belt_mm: np.ndarray = array("float64", (0,))
    lateral_mm: np.ndarray = array("float32", (0,))
    length_mm: np.ndarray = array("float32", (0,))
    frames: np.ndarray = array("int32", (0,))
    class_names: list = None
    seen_from: float = 0.0
    seen_to: float = -1.0


class DiverterCommand(Message, type_name="sorter/DiverterCommand"):
    """Extend diverter `diverter` at `extend_at` and retract it at `retract_at` (ns, graph
    clock) for item `item_id`. The io node executes it on its own clock, so the timing does
    not depend on message latency; a command whose extend time has passed is refused."""

    diverter: int = 0
    extend_at: int = 0
    retract_at: int = 0
    item_id: int = -1
