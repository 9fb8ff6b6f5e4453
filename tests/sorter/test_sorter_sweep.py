"""benchmarks.sorter_sweep runs the app per (speed, gap, seed) and summarises; a smoke run
with the stand-in detector checks it reports every run and honours the gap it is given."""

import json

import pytest

from benchmarks import sorter_sweep


def test_a_sweep_reports_each_run_and_honours_the_gap(capsys):
    sorter_sweep.main(["--items", "6", "--seeds", "1", "--speeds", "140", "--gaps",
                       "120-120", "360-360", "--detector", "standin", "--json"])  # fmt: skip
    out = capsys.readouterr().out
    runs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(r["speed"], r["gap"], r["seed"], r["items"]) for r in runs] == [
        (140.0, "120-120", 1, 6),
        (140.0, "360-360", 1, 6),
    ]
    assert all(r["wrong_bin"] == 0 and r["jams"] == 0 for r in runs)
    close, far = (r["throughput_per_min"] for r in runs)
    # pitch = gap + item length (24..64 mm): 3x the gap is about 2.5x the pitch
    assert 1.8 < close / far < 3.2
    assert "gap 120-120: highest speed with accuracy >= 99 %" in out


@pytest.mark.parametrize("text", ["100", "a-b", "200-100", "0-10"])
def test_a_bad_gap_is_refused(text):
    with pytest.raises(SystemExit):
        sorter_sweep.main(["--gaps", text])
