"""The shipped config and graph agree with the simulated cell they are tested against."""

import pytest

from apps.sorter import config as configs
from sims.conveyor import Cell, World
from sims.conveyor.oracle import DEFAULT_PLAN
from sims.conveyor.wiring import load_wiring


def test_the_config_matches_the_default_cell():
    config = configs.load()
    cell, world = Cell(), World(seed=0)
    assert config["calibration"] == pytest.approx(world.calibration.as_dict())
    c = config["cell"]
    assert c["diverters_mm"] == list(cell.diverters)
    assert c["beams_mm"] == list(cell.beams)
    assert c["paddle_reach_mm"] == cell.paddle_reach
    assert c["servo_seconds_per_60deg"] == cell.servo.seconds_per_60deg
    assert c["paddle_travel_deg"] == cell.servo.extended_deg - cell.servo.retracted_deg
    assert c["item_max_mm"] >= cell.item_size[1] * 2**0.5  # the longest item, turned 45 deg
    assert config["bins"] == DEFAULT_PLAN
    assert len(load_wiring().diverters) == len(cell.diverters)
    camera = config["camera"]
    assert (camera["width"], camera["height"], camera["fps"]) == (
        cell.camera.width,
        cell.camera.height,
        cell.camera.fps,
    )


def test_a_config_naming_a_missing_diverter_is_refused(tmp_path):
    with open(configs.DEFAULT_CONFIG) as f:
        text = f.read().replace("bolt: 2}", "bolt: 5}")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(configs.ConfigError, match="bolt -> 5 is not a diverter"):
        configs.load(str(path))
