"""The python examples of docs/hal-i2c.md run, in order, as a reader would paste them."""

import contextlib
import io
import os
import re

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "hal-i2c.md")


def python_blocks():
    with open(DOC) as f:
        return re.findall(r"```python\n(.*?)```", f.read(), re.S)


def test_doc_has_examples_for_bus_driver_channel_and_sim():
    assert len(python_blocks()) == 5


def test_doc_examples_run_and_print_what_the_doc_says():
    namespace = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for number, block in enumerate(python_blocks(), 1):
            exec(compile(block, f"docs/hal-i2c.md python block {number}", "exec"), namespace)
    lines = printed.getvalue().splitlines()
    assert lines[0] == (
        "no device answered at address 0x40 on I2C bus 1: check wiring, power and the "
        "address (run i2cdetect -y -r 1)"
    )
    assert lines[1].startswith("50.03 ChannelOutput(frequency=50.0288")
    assert namespace["board"].bus is None  # the last example closed its driver
