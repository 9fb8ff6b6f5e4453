"""Which board this is: Jetson (model, L4T and JetPack versions), Raspberry Pi, or neither.

Read from the device tree (``/proc/device-tree/compatible`` and ``model``, as Jetson.GPIO
does) and ``/etc/nv_tegra_release``. The boards are those of :data:`hal.boards.BOARDS`, found
by their ``compatible`` strings (or, failing those, their device-tree model). ``root`` moves
all three files under another directory, so tests can describe any board with a few files.
"""

import collections
import os
import re

from .boards import BOARDS

__all__ = ["Platform", "detect", "jetpack_for", "parse_l4t"]

Platform = collections.namedtuple(
    "Platform", "name model is_jetson is_raspberry_pi compatible l4t jetpack"
)
Platform.__doc__ = """What :func:`detect` found.

name: the key of the board in :data:`hal.boards.BOARDS` ('jetson-nano', 'orin-nano', 'rpi4') or
None; model: the device tree's model string ('NVIDIA Jetson Nano Developer Kit') or None;
compatible: the device tree's compatible strings; l4t: '32.7.1' or None; jetpack: '4.6.1' or
None."""

# L4T release -> JetPack (NVIDIA's JetPack archive), for the releases Nano and Orin boards run.
_JETPACK = {
    "32.4.3": "4.4", "32.4.4": "4.4.1", "32.5.0": "4.5", "32.5.1": "4.5.1", "32.5.2": "4.5.1",
    "32.6.1": "4.6", "32.7.1": "4.6.1", "32.7.2": "4.6.2", "32.7.3": "4.6.3", "32.7.4": "4.6.4",
    "32.7.5": "4.6.5", "32.7.6": "4.6.6",
    "35.1.0": "5.0.2", "35.2.1": "5.1", "35.3.1": "5.1.1", "35.4.1": "5.1.2", "35.5.0": "5.1.3",
    "35.6.0": "5.1.4",
    "36.2.0": "6.0 DP", "36.3.0": "6.0", "36.4.0": "6.1", "36.4.3": "6.2",
}  # fmt: skip
_JETPACK_MAJOR = {"32": "4", "34": "5", "35": "5", "36": "6"}


def detect(root="/"):
    """Describe the board this runs on (or the one whose files are under ``root``)."""
    compatible = _read_strings(os.path.join(root, "proc/device-tree/compatible"))
    model = next(iter(_read_strings(os.path.join(root, "proc/device-tree/model"))), None)
    is_jetson = any(c.startswith("nvidia,tegra") for c in compatible)
    l4t = None
    release = _read(os.path.join(root, "etc/nv_tegra_release"))
    if release is not None:
        l4t = parse_l4t(release)
        is_jetson = True
    return Platform(
        name=_board_key(compatible, model),
        model=model,
        is_jetson=is_jetson,
        is_raspberry_pi=any(c.startswith("raspberrypi,") for c in compatible),
        compatible=tuple(compatible),
        l4t=l4t,
        jetpack=jetpack_for(l4t),
    )


def _board_key(compatible, model):
    """The key of the board the device tree names: by compatible string (exactly, as
    Jetson.GPIO matches them), else by model string; None for boards hal does not model."""
    for board in BOARDS.values():
        if set(board.compatible) & set(compatible):
            return board.key
    for board in BOARDS.values():
        if model and board.model in model:
            return board.key
    return None


def parse_l4t(release_text):
    """'32.7.1' from the first line of /etc/nv_tegra_release, or None if it is not there.

    The line reads ``# R32 (release), REVISION: 7.1, GCID: ..., BOARD: t210ref, ...``.
    """
    match = re.search(r"R(\d+)\s*\(\w+\),\s*REVISION:\s*(\d+)\.(\d+)", release_text)
    return ".".join(match.groups()) if match else None


def jetpack_for(l4t):
    """The JetPack release that ships L4T ``l4t`` ('32.7.1' -> '4.6.1'); '4.x' if unlisted."""
    if l4t is None:
        return None
    if l4t in _JETPACK:
        return _JETPACK[l4t]
    major = _JETPACK_MAJOR.get(l4t.split(".")[0])
    return f"{major}.x" if major else None


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def _read_strings(path):
    """A device-tree property: NUL-separated strings."""
    text = _read(path)
    return [s for s in text.split("\0") if s.strip()] if text else []
