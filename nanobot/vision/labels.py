"""Class labels: from a labels file (one name a line) or from a model's metadata."""

import ast

__all__ = ["from_metadata", "read_labels"]


def read_labels(path):
    """The names in a labels file, one a line (blank lines at the end ignored)."""
    with open(path, encoding="utf-8") as f:
        names = [line.strip() for line in f]
    while names and not names[-1]:
        names.pop()
    return names


def from_metadata(metadata):
    """Names from ONNX metadata: Ultralytics exports store ``names`` as the text of a dict
    ``{0: 'person', 1: 'bicycle', ...}``; a list or one name a line is accepted too.
    Returns None when the metadata holds no names."""
    text = metadata.get("names") or metadata.get("labels")
    if not text:
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(value, dict):
        return [str(value[k]) for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return None
