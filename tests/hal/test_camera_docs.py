"""The examples in docs/hal-camera.md (the python blocks marked `<!-- example -->`) run."""

import os
import re

import pytest
from camera_standins import needs_gstreamer

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "hal-camera.md")
EXAMPLE = re.compile(r"<!-- example -->\n```python\n(.*?)```", re.S)


def examples():
    with open(DOC) as doc:
        blocks = EXAMPLE.findall(doc.read())
    assert len(blocks) == 3, "docs/hal-camera.md lost or gained an example: update this test"
    return [
        pytest.param(code, id=f"example{i}", marks=[needs_gstreamer] if "test://" in code else [])
        for i, code in enumerate(blocks, 1)
    ]


@pytest.mark.parametrize("code", examples())
def test_doc_example_runs(code):
    exec(compile(code, DOC, "exec"), {"__name__": "docs_example"})
