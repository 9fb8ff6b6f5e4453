"""The sorter's config file (apps/sorter/config.yaml): load it, check it, apply it to the graph."""

import os

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "config.yaml")
DEFAULT_GRAPH = os.path.join(HERE, "graph.yaml")
DEFAULT_MODEL = os.path.join(HERE, "models", "sorter.card.yaml")

KEYS = ("bins", "min_confidence", "speed_mm_s", "camera", "calibration", "cell")
CELL_KEYS = (
    "diverters_mm",
    "beams_mm",
    "paddle_reach_mm",
    "servo_seconds_per_60deg",
    "paddle_travel_deg",
    "item_max_mm",
)


class ConfigError(ValueError):
    """A config file the sorter cannot use; the message names the file and the key."""


def load(path=None):
    """The config at `path` (default: the shipped one) as a dict, checked."""
    path = path or DEFAULT_CONFIG
    try:
        with open(path) as f:
            config = yaml.safe_load(f) or {}
    except OSError as e:
        raise ConfigError("cannot read config %s: %s" % (path, e.strerror)) from e
    missing = [k for k in KEYS if k not in config]
    if missing:
        raise ConfigError(
            "%s: missing %s (see apps/sorter/config.yaml)" % (path, ", ".join(missing))
        )
    cell = config["cell"]
    missing = [k for k in CELL_KEYS if k not in cell]
    if missing:
        raise ConfigError("%s: cell is missing %s" % (path, ", ".join(missing)))
    if len(cell["beams_mm"]) != len(cell["diverters_mm"]):
        raise ConfigError("%s: cell needs one beam per diverter" % path)
    for name, d in config["bins"].items():
        if not (isinstance(d, int) and 0 <= d < len(cell["diverters_mm"])):
            raise ConfigError(
                "%s: bins: %s -> %r is not a diverter (0..%d)"
                % (path, name, d, len(cell["diverters_mm"]) - 1)
            )
    config["source"] = path
    return config


def geometry(config):
    """The scheduler's geometry param from a config."""
    cell, cal = config["cell"], config["calibration"]
    return {
        "diverters": list(cell["diverters_mm"]),
        "beams": list(cell["beams_mm"]),
        "reach": cell["paddle_reach_mm"],
        "view_end": cal["x0"] + cal["width"] / cal["px_per_mm"],
        "slew_s": cell["servo_seconds_per_60deg"] * cell["paddle_travel_deg"] / 60.0,
        "item_max_mm": cell["item_max_mm"],
    }


def apply(graph, config):
    """Set the graph's node params from `config` (before any --set override)."""
    nodes = graph.nodes
    camera = config["camera"]
    nodes["camera"].params.update(
        {k: camera[k] for k in ("uri", "width", "height", "fps") if k in camera}
    )
    nodes["io"].params["speed_mm_s"] = float(config["speed_mm_s"])
    nodes["tracker"].params["calibration"] = dict(config["calibration"])
    nodes["scheduler"].params.update(
        bins=dict(config["bins"]),
        geometry=geometry(config),
        min_confidence=float(config["min_confidence"]),
    )
    detector = nodes.get("detector")
    if detector is not None and "model" in detector.params:
        model = detector.params["model"]
        if not os.path.isabs(model) and not os.path.exists(model):
            detector.params["model"] = os.path.join(os.path.dirname(HERE), "..", model)
            detector.params["model"] = os.path.normpath(detector.params["model"])
    return graph
