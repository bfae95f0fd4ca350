"""Views of TracIn results: the test example beside its proponents and opponents, in a terminal or in HTML.

Every string that comes from data (texts, labels, references) is escaped in HTML. The views read
results by attribute (``examples``, ``proponents``, ``index``, ...), so this module needs nothing
from :mod:`.result`, which imports it.
"""

from __future__ import annotations

import html
from typing import Any

WIDTH = 60
"""Texts are cut to this many characters in the terminal view."""


def _name(example: Any) -> str:
    return example.text if example.text is not None else (example.reference or "")


def _caption(test: dict[str, object]) -> str:
    text = test.get("text")
    return f"test {test['index']} (label {test.get('label')})" + ("" if text is None else f": {text}")


def _cut(text: str) -> str:
    return text if len(text) <= WIDTH else text[: WIDTH - 1] + "…"


def influence_text(result: Any) -> str:
    """Per test example, its proponents and opponents with index, label and score."""
    lines = []
    for item in result.examples:
        lines.append(_cut(_caption(item.test)))
        for kind, examples in (("proponents", item.proponents), ("opponents", item.opponents)):
            lines.append(f"  {kind}:")
            lines += [f"    {e.score:+.4g}  #{e.index:<6} label {e.label}  {_cut(_name(e))}".rstrip() for e in examples]
    return "\n".join(lines)


def _rows(examples: list[Any]) -> str:
    return "".join(
        f"<tr><td>{e.index}</td><td>{html.escape(str(e.label))}</td><td>{e.score:+.4g}</td><td>{html.escape(_name(e))}</td></tr>"
        for e in examples
    )


def _table(title: str, examples: list[Any]) -> str:
    head = "<tr><th>index</th><th>label</th><th>score</th><th>example</th></tr>"
    return f"<div class='ll-influence-column'><h4>{html.escape(title)}</h4><table>{head}{_rows(examples)}</table></div>"


def influence_html(result: Any) -> str:
    """Per test example a block: the example, then its proponents beside its opponents."""
    blocks = []
    for item in result.examples:
        caption = html.escape(_caption(item.test))
        columns = _table("proponents", item.proponents) + _table("opponents", item.opponents)
        blocks.append(f"<section class='ll-influence'><p>{caption}</p><div style='display:flex;gap:2em'>{columns}</div></section>")
    return "".join(blocks)


def self_influence_html(result: Any) -> str:
    """The 20 training examples with the highest self-influence."""
    return _table("highest self-influence", result.top(min(20, len(result.scores))))
