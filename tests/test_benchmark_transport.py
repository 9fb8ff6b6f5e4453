"""The transport benchmark's plumbing: it runs end to end and reports every figure.

Speed targets are not asserted here (timing assertions flake on a loaded machine): the figures
live in docs/performance.md.
"""

import sys

import pytest
from benchmark_run import run_json

from benchmarks import transport

SIZES = [64, 65536, 921600, 2764800]


@pytest.fixture(scope="module")
def report():
    return run_json("benchmarks.transport", "--quick")


def test_report_names_the_machine_and_the_date(report):
    m = report["machine"]
    assert m["cores"] >= 1 and m["cpu"]
    assert m["python"] == "{}.{}.{}".format(*sys.version_info[:3])
    for key in ("pyzmq", "libzmq", "numpy", "msgpack"):
        assert m[key][0].isdigit(), key
    assert report["date"].endswith("Z") and report["date"][:2] == "20"


def test_every_default_size_is_measured_with_its_shape(report):
    assert [r["size"] for r in report["results"]] == SIZES
    shapes = [r["shape"] for r in report["results"]]
    assert shapes == [[8, 8], [256, 256], [480, 640, 3], [720, 1280, 3]]


def test_every_figure_is_positive_and_every_count_complete(report):
    s = report["settings"]
    for r in report["results"]:
        assert r["memcpy"]["p50_us"] > 0 and r["memcpy"]["gb_per_s"] > 0
        for kind in ("raw", "nanobot"):
            lat, thr = r[kind]["latency_us"], r[kind]["throughput"]
            assert lat["count"] == s["latency_count"]
            assert 0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["max"]
            assert lat["min"] <= lat["mean"] <= lat["max"]
            assert thr["msgs_per_s"] > 0 and thr["mb_per_s"] > 0
            assert len(thr["rounds_msgs_per_s"]) == s["rounds"]
            assert thr["received"] == thr["sent"] >= s["rounds"] * 10
            assert thr["dropped"] == 0


def test_ratios_are_nanobot_over_raw_and_targets_are_judged(report):
    for r in report["results"]:
        raw, nb = r["raw"], r["nanobot"]
        assert r["ratios"]["latency_p50"] == pytest.approx(
            nb["latency_us"]["p50"] / raw["latency_us"]["p50"]
        )
        assert r["ratios"]["throughput"] == pytest.approx(
            nb["throughput"]["msgs_per_s"] / raw["throughput"]["msgs_per_s"]
        )
        assert (r["target"] is None) == (r["meets_target"] is None) == (r["size"] == 65536)


@pytest.mark.parametrize(
    "size, shape",
    [
        (640 * 480 * 3, (480, 640, 3)),
        (1920 * 1080 * 3, (1080, 1920, 3)),
        (64, (8, 8)),
        (1000, (1, 1000)),
    ],
)
def test_payloads_travel_as_camera_like_images(size, shape):
    assert transport.payload_shape(size) == shape


def test_bursts_are_capped_by_bytes_but_never_tiny():
    settings = transport.Settings.make(1000)
    assert settings.burst_for(64) == 2000
    assert settings.burst_for(2764800) == (512 << 20) // 2764800
    assert settings.burst_for(1 << 40) == 10
