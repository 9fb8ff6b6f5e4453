"""Board detection from device-tree and L4T release files written by the tests; the boards are
the hal.boards models, named by their keys."""

import pytest

from hal.platform import detect, jetpack_for, parse_l4t

NANO_RELEASE = (
    "# R32 (release), REVISION: 7.1, GCID: 29818004, BOARD: t210ref, EABI: aarch64, "
    "DATE: Sat Feb 19 17:05:08 UTC 2022\n# KERNEL_VARIANT: oot\n"
)
ORIN_RELEASE = (
    "# R36 (release), REVISION: 3.0, GCID: 36923193, BOARD: generic, EABI: aarch64, "
    "DATE: Fri Jul 19 23:24:25 UTC 2024\n"
)


def make_root(tmp_path, compatible=None, model=None, release=None):
    if compatible is not None:
        (tmp_path / "proc/device-tree").mkdir(parents=True)
        (tmp_path / "proc/device-tree/compatible").write_bytes(compatible.encode())
        if model is not None:
            (tmp_path / "proc/device-tree/model").write_bytes(model.encode() + b"\0")
    if release is not None:
        (tmp_path / "etc").mkdir()
        (tmp_path / "etc/nv_tegra_release").write_text(release)
    return str(tmp_path)


def test_jetson_nano(tmp_path):
    root = make_root(
        tmp_path,
        "nvidia,p3450-0000\0nvidia,jetson-nano\0nvidia,tegra210\0",
        "NVIDIA Jetson Nano Developer Kit",
        NANO_RELEASE,
    )
    board = detect(root)
    assert board.name == "jetson-nano"
    assert board.model == "NVIDIA Jetson Nano Developer Kit"
    assert (board.is_jetson, board.is_raspberry_pi) == (True, False)
    assert (board.l4t, board.jetpack) == ("32.7.1", "4.6.1")
    assert board.compatible == ("nvidia,p3450-0000", "nvidia,jetson-nano", "nvidia,tegra210")


@pytest.mark.parametrize(
    "first",
    ["nvidia,p3768-0000+p3767-0005", "nvidia,p3768-0000+p3767-0005-super",
     "nvidia,p3509-0000+p3767-0003", "nvidia,p3509-0000+p3767-0004-super"],
)  # fmt: skip
def test_jetson_orin_nano_on_either_carrier_and_in_super_mode(tmp_path, first):
    root = make_root(
        tmp_path,
        f"{first}\0nvidia,p3767-0005\0nvidia,tegra234\0",
        "NVIDIA Jetson Orin Nano Developer Kit",
        ORIN_RELEASE,
    )
    board = detect(root)
    assert (board.name, board.is_jetson, board.l4t, board.jetpack) == (
        "orin-nano", True, "36.3.0", "6.0",
    )  # fmt: skip


def test_raspberry_pi_4(tmp_path):
    root = make_root(
        tmp_path, "raspberrypi,4-model-b\0brcm,bcm2711\0", "Raspberry Pi 4 Model B Rev 1.4"
    )
    board = detect(root)
    assert (board.name, board.model) == ("rpi4", "Raspberry Pi 4 Model B Rev 1.4")
    assert (board.is_jetson, board.is_raspberry_pi, board.l4t, board.jetpack) == (
        False, True, None, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    "compatible, model",
    [("nvidia,p3509-0000+p3668-0000\0nvidia,tegra194\0", "NVIDIA Jetson Xavier NX Developer Kit"),
     ("nvidia,p3509-0000+p3767-0000\0nvidia,tegra234\0", "NVIDIA Jetson Orin NX Engineering "
      "Reference Developer Kit")],
)  # fmt: skip
def test_other_jetson_is_a_jetson_without_a_board_model(tmp_path, compatible, model):
    board = detect(make_root(tmp_path, compatible, model))
    assert (board.name, board.is_jetson, board.l4t) == (None, True, None)


@pytest.mark.parametrize(
    "model, name",
    [("Raspberry Pi 4 Model B Rev 1.5", "rpi4"),
     ("NVIDIA Jetson Nano Developer Kit", "jetson-nano"),
     ("NVIDIA Jetson Orin Nano Developer Kit", "orin-nano"),
     ("Raspberry Pi 5 Model B Rev 1.0", None)],
)  # fmt: skip
def test_model_string_names_the_board_when_no_compatible_string_does(tmp_path, model, name):
    board = detect(make_root(tmp_path, "brcm,unknown\0", model))
    assert (board.name, board.model) == (name, model)


def test_a_laptop_has_no_device_tree(tmp_path):
    board = detect(str(tmp_path))
    assert board == (None, None, False, False, (), None, None)


@pytest.mark.parametrize(
    "l4t, jetpack",
    [("32.6.1", "4.6"), ("32.7.4", "4.6.4"), ("35.4.1", "5.1.2"), ("32.9.9", "4.x"),
     ("36.9.0", "6.x"), ("99.1.0", None), (None, None)],
)  # fmt: skip
def test_jetpack_for_l4t(l4t, jetpack):
    assert jetpack_for(l4t) == jetpack


def test_parse_l4t_reads_release_and_revision():
    assert parse_l4t(NANO_RELEASE) == "32.7.1"
    assert parse_l4t("# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref") == "35.4.1"
    assert parse_l4t("garbage") is None
