"""Every ```python block of docs/hal.md runs, on the simulator, as written."""

import os
import re

import pytest

from hal.gpio import get_factory, set_default_factory

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "hal.md")


def _blocks():
    with open(DOC) as f:
        text = f.read()
    return re.findall(r"^```python\n(.*?)^```$", text, flags=re.S | re.M)


def test_docs_have_examples():
    assert len(_blocks()) >= 6


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_docs_example_runs_on_sim(index, monkeypatch, capsys):
    monkeypatch.setenv("NANOBOT_HAL", "sim")
    sim = get_factory("sim", board="jetson-nano")
    previous = set_default_factory(sim)
    try:
        exec(compile(_blocks()[index], f"docs/hal.md example {index}", "exec"), {})
    finally:
        set_default_factory(previous)
        sim.close()
