"""Choosing a backend and a board: argument, NANOBOT_HAL, detection; never a silent sim."""

import logging

import pytest

from hal.gpio import GPIOSetupError, PinUsageError, get_factory, selection

from standin_gpio import StandinGPIO


def device_tree(tmp_path, compatible=()):
    """A root directory whose /proc/device-tree names a board by its compatible strings."""
    (tmp_path / "proc/device-tree").mkdir(parents=True)
    compatible = b"".join(c.encode() + b"\0" for c in compatible)
    (tmp_path / "proc/device-tree/compatible").write_bytes(compatible)
    return str(tmp_path)


def test_auto_on_a_laptop_is_sim_and_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("NANOBOT_HAL", raising=False)
    with caplog.at_level(logging.INFO, logger="hal.gpio"):
        factory = get_factory(root=str(tmp_path))
    assert factory.backend == "sim" and factory.board.key == "jetson-nano"
    assert (
        "GPIO backend: sim on the Jetson Nano dev kit (auto: no Jetson or Raspberry Pi detected)"
        in caplog.text
    )


def test_auto_on_a_jetson_uses_the_real_module(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NANOBOT_HAL", "auto")
    tree = device_tree(tmp_path, ["nvidia,p3450-0000"])
    with caplog.at_level(logging.INFO, logger="hal.gpio"):
        factory = get_factory(module=StandinGPIO("jetson"), root=tree)
    assert (factory.backend, factory.board.key) == ("jetson", "jetson-nano")
    assert "(auto: detected Jetson Nano dev kit)" in caplog.text


def test_env_selects_sim_with_the_detected_board(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOBOT_HAL", "sim")
    factory = get_factory(root=device_tree(tmp_path, ["raspberrypi,4-model-b"]))
    assert (factory.backend, factory.board.key) == ("sim", "rpi4")


def test_requested_jetson_without_jetson_gpio_is_an_error_not_sim(tmp_path, monkeypatch):
    def no_module(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(selection.importlib, "import_module", no_module)
    with pytest.raises(
        GPIOSetupError, match=r"jetson GPIO backend needs .*`pip install Jetson.GPIO`"
    ):
        get_factory("jetson", board="jetson-nano", root=str(tmp_path))


def test_requested_jetson_on_an_unknown_machine_says_what_to_pass(tmp_path):
    with pytest.raises(
        GPIOSetupError,
        match=r"no supported board was detected in .*/proc/device-tree; pass board= \(one of "
        r"jetson-nano, orin-nano, rpi4\) or use NANOBOT_HAL=sim",
    ):
        get_factory("jetson", module=StandinGPIO("jetson"), root=str(tmp_path))


def test_unknown_backend_names_the_choices(monkeypatch):
    monkeypatch.setenv("NANOBOT_HAL", "jetsn")
    with pytest.raises(
        PinUsageError, match=r"unknown GPIO backend 'jetsn' .*NANOBOT_HAL.*sim, jetson, rpi, auto"
    ):
        get_factory()


def test_import_guidance_for_permission_error(monkeypatch):
    def failing_import(name):
        raise RuntimeError(
            "The current user does not have permissions set to access the library functionalites."
        )

    monkeypatch.setattr(selection.importlib, "import_module", failing_import)
    with pytest.raises(GPIOSetupError, match="gpio group"):
        selection._import_module("jetson")
