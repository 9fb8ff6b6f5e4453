"""Choosing a backend and a board: argument, NANOBOT_HAL, detection; never a silent sim."""

import logging

import pytest

from hal.gpio import GPIOSetupError, PinUsageError, detect_board, get_factory, selection

from standin_gpio import StandinGPIO


def device_tree(tmp_path, compatible=(), model=""):
    (tmp_path / "compatible").write_bytes(b"".join(c.encode() + b"\0" for c in compatible))
    (tmp_path / "model").write_bytes(model.encode() + b"\0")
    return str(tmp_path)


@pytest.mark.parametrize(
    "compatible, model, expected",
    [
        (
            ["nvidia,p3450-0000", "nvidia,jetson-nano", "nvidia,tegra210"],
            "NVIDIA Jetson Nano Developer Kit",
            "jetson-nano",
        ),
        (["nvidia,p3768-0000+p3767-0005-super", "nvidia,tegra234"], "", "orin-nano"),
        (["raspberrypi,4-model-b", "brcm,bcm2711"], "Raspberry Pi 4 Model B Rev 1.4", "rpi4"),
        ([], "Raspberry Pi 4 Model B Rev 1.5", "rpi4"),
        (["nvidia,p3509-0000+p3767-0000"], "NVIDIA Orin NX", None),  # Orin NX: not modelled
    ],
)
def test_detect_board_from_device_tree(tmp_path, compatible, model, expected):
    assert detect_board(device_tree(tmp_path, compatible, model)) == expected


def test_no_device_tree_is_no_board(tmp_path):
    assert detect_board(str(tmp_path / "missing")) is None


def test_auto_on_a_laptop_is_sim_and_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("NANOBOT_HAL", raising=False)
    with caplog.at_level(logging.INFO, logger="hal.gpio"):
        factory = get_factory(device_tree=str(tmp_path))
    assert factory.backend == "sim" and factory.board.key == "jetson-nano"
    assert (
        "GPIO backend: sim on the Jetson Nano dev kit (auto: no Jetson or Raspberry Pi detected)"
        in caplog.text
    )


def test_auto_on_a_jetson_uses_the_real_module(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("NANOBOT_HAL", "auto")
    tree = device_tree(tmp_path, ["nvidia,p3450-0000"])
    with caplog.at_level(logging.INFO, logger="hal.gpio"):
        factory = get_factory(module=StandinGPIO("jetson"), device_tree=tree)
    assert (factory.backend, factory.board.key) == ("jetson", "jetson-nano")
    assert "(auto: detected Jetson Nano dev kit)" in caplog.text


def test_env_selects_sim_with_the_detected_board(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOBOT_HAL", "sim")
    factory = get_factory(device_tree=device_tree(tmp_path, ["raspberrypi,4-model-b"]))
    assert (factory.backend, factory.board.key) == ("sim", "rpi4")


def test_requested_jetson_without_jetson_gpio_is_an_error_not_sim(tmp_path, monkeypatch):
    def no_module(name):
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr(selection.importlib, "import_module", no_module)
    with pytest.raises(
        GPIOSetupError, match=r"jetson GPIO backend needs .*`pip install Jetson.GPIO`"
    ):
        get_factory("jetson", board="jetson-nano", device_tree=str(tmp_path))


def test_requested_jetson_on_an_unknown_machine_says_what_to_pass(tmp_path):
    with pytest.raises(GPIOSetupError, match=r"no supported board was detected.*NANOBOT_HAL=sim"):
        get_factory("jetson", module=StandinGPIO("jetson"), device_tree=str(tmp_path))


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
