"""docs/protocol.md stays in step with the code: its type table, limits and DecodeError kinds.

When a built-in type changes, regenerate the table with
    NANOBOT_UPDATE_DOCS=1 python -m pytest tests/test_protocol_doc.py
"""

import dataclasses
import os
import re

import numpy as np

from nanobot import codec, msgs, slots

DOC = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "protocol.md")
BEGIN, END = "<!-- types:begin -->\n", "<!-- types:end -->\n"
WIRE_TYPES = {str: "str", int: "int", float: "float", bool: "bool", list: "array (list)",
              dict: "map", bytes: "bin"}  # fmt: skip


def _read_doc():
    with open(DOC, encoding="utf-8") as f:
        return f.read()


def _literal(value):
    if value is None:
        return "`nil`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


def types_table():
    """The built-in type table of docs/protocol.md section 6, from nanobot.msgs."""
    rows = ["| type | version | field | wire | default |", "|---|---|---|---|---|"]
    builtin = [c for c in msgs.registered().values() if c.__module__ == "nanobot.msgs"]
    for cls in sorted(builtin, key=lambda c: c.type_name):
        for i, f in enumerate(dataclasses.fields(cls)):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            if f.type is np.ndarray:
                wire = "array `{}`".format(default.dtype.str.replace("|", "\\|"))
                shown = f"empty, shape {list(default.shape)}"
            else:
                wire, shown = WIRE_TYPES[f.type], _literal(default)
            first = f"| `{cls.type_name}` | {cls.type_version} |" if i == 0 else "| | |"
            rows.append(f"{first} `{f.name}` | {wire} | {shown} |")
    return "\n".join(rows) + "\n"


def test_type_table_matches_nanobot_msgs():
    doc = _read_doc()
    start, end = doc.index(BEGIN) + len(BEGIN), doc.index(END)
    expected = types_table()
    if os.environ.get("NANOBOT_UPDATE_DOCS") and doc[start:end] != expected:
        with open(DOC, "w", encoding="utf-8") as f:
            f.write(doc[:start] + expected + doc[end:])
        doc = _read_doc()
    assert doc[doc.index(BEGIN) + len(BEGIN) : doc.index(END)] == expected, (
        "docs/protocol.md's type table is out of date; rerun with NANOBOT_UPDATE_DOCS=1"
    )


def test_every_decode_error_kind_is_documented_and_no_other():
    with open(codec.__file__, encoding="utf-8") as f:
        source = f.read()
    kinds = set(re.findall(r'DecodeError\(\s*"([a-z-]+)"', source))
    kinds |= set(re.findall(r'return DecodeError\("([a-z-]+)"', source))
    with open(slots.__file__, encoding="utf-8") as f:  # its SlotErrors become DecodeErrors
        kinds |= set(re.findall(r'SlotError\(\s*"([a-z-]+)"', f.read()))
    section = _read_doc().split("## 5.")[1].split("## 6.")[0]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", section, re.M))
    assert kinds == documented
    assert kinds >= {"frame-count", "topic", "header", "protocol-version", "array",
                     "unknown-type", "wrong-type", "type-version", "fields"}  # fmt: skip


def test_limits_and_versions_in_the_doc_are_the_codes():
    doc = _read_doc()
    assert f"`MAX_HEADER_BYTES` | {codec.MAX_HEADER_BYTES:,} bytes" in doc
    assert f"`MAX_ARRAYS` | {codec.MAX_ARRAYS} descriptors" in doc
    assert f"`MAX_NDIM` | {codec.MAX_NDIM} dimensions" in doc
    assert f"# The nanobot wire protocol (version {codec.PROTOCOL_VERSION})" in doc


def test_documented_dtypes_are_the_allowed_dtypes():
    section = _read_doc().split("## 4.")[1].split("## 5.")[0]
    documented = set()
    for kind, sizes in re.findall(r"^\| `([biuf])` [^|]*\| ([\d, ]+) \|", section, re.M):
        documented |= {kind + s.strip() for s in sizes.split(",")}
    assert documented == codec._ALLOWED_DTYPES
