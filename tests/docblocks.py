"""Code blocks of the docs, for tests that run what the docs show."""

import os
import re

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "docs")
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def code_blocks(doc, lang):
    """The `lang` fenced blocks of docs/`doc`, in order, as (line number, source)."""
    with open(os.path.join(DOCS, doc), encoding="utf-8") as f:
        text = f.read()
    return [
        (text.count("\n", 0, m.start()) + 2, m.group(2))
        for m in _FENCE.finditer(text)
        if m.group(1) == lang
    ]


def named_block(doc, lang, name):
    """The one `lang` block of docs/`doc` whose first line is the comment `# <name>: ...`."""
    found = [src for _, src in code_blocks(doc, lang) if src.startswith(f"# {name}:")]
    if len(found) != 1:
        raise LookupError(f"docs/{doc} has {len(found)} {lang} blocks named {name}")
    return found[0]
