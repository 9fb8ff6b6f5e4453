"""The Jetson board models agree with Jetson.GPIO's own pin table (gpio_pin_data.py).

The table is loaded by file path in a sys.modules sandbox, so the hardware module (which needs
/dev/gpiochip0) is never imported. Needs Jetson.GPIO installed (it is in the dev extra).
"""

import importlib.util
import os
import sys
import types

import pytest

from hal.boards import get_board


def _find_pin_data():
    for entry in sys.path:
        path = os.path.join(entry or ".", "Jetson", "GPIO", "gpio_pin_data.py")
        if os.path.isfile(path):
            return path
    return None


def _load_pin_data(path):
    """Execute gpio_pin_data.py as Jetson.GPIO.gpio_pin_data with stub parent packages whose
    __path__ is the real directory (so relative imports of pure modules still resolve), then
    restore sys.modules so nothing of the sandbox leaks into the rest of the suite."""
    directory = os.path.dirname(path)
    saved = {k: v for k, v in sys.modules.items() if k == "Jetson" or k.startswith("Jetson.")}
    try:
        for name, where in (("Jetson", os.path.dirname(directory)), ("Jetson.GPIO", directory)):
            stub = types.ModuleType(name)
            stub.__path__ = [where]
            sys.modules[name] = stub
        spec = importlib.util.spec_from_file_location("Jetson.GPIO.gpio_pin_data", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        for name in [k for k in sys.modules if k == "Jetson" or k.startswith("Jetson.")]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def pin_data():
    path = _find_pin_data()
    if path is None:
        pytest.skip("Jetson.GPIO is not installed (it is in the dev extra: pip install -e .[dev])")
    return _load_pin_data(path)


@pytest.mark.parametrize(
    "model, key", [("JETSON_NANO", "jetson-nano"), ("JETSON_ORIN_NANO", "orin-nano")]
)
def test_board_model_matches_jetson_gpio(pin_data, model, key):
    board = get_board(key)
    rows = pin_data.jetson_gpio_data[model][0]
    # gpio_pin_data.py rows: offset, name, chip, BOARD, BCM, CVM, TEGRA_SOC, pwm chip, pwm id
    assert board.gpio_pins() == sorted(row[3] for row in rows)
    assert board.pwm_pins() == sorted(row[3] for row in rows if row[7] is not None)
    for row in rows:
        pin = board.pins[row[3]]
        assert (pin.bcm, pin.name, pin.soc_name) == (row[4], row[5], row[6]), row
        if row[7] is not None:
            assert pin.pwm == f"{row[7]} channel {row[8]}"


def test_jetson_gpio_hardware_module_was_not_imported(pin_data):
    assert "Jetson.GPIO.gpio" not in sys.modules
    assert "Jetson.GPIO.gpio_pin_data" not in sys.modules


@pytest.mark.parametrize(
    "compats, key", [("compats_nano", "jetson-nano"), ("compats_jetson_orins_nano", "orin-nano")]
)
def test_detection_compatibles_match_jetson_gpio(pin_data, compats, key):
    """hal.platform.detect names a board by exactly the strings Jetson.GPIO accepts for it."""
    assert sorted(get_board(key).compatible) == sorted(getattr(pin_data, compats))
