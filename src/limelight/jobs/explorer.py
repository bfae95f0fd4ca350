"""The dataset explorer: one self-contained HTML page to browse a job's rows (what Captum Insights offered, offline).

:func:`save_explorer` writes a page with a table of examples (text heatmap, true label,
prediction, target, probability, delta), filters (true and predicted label, correct or not,
probability range, unconverged, failed, text search), sorting by any column, paging (the table
draws one page at a time, so 10,000 rows stay responsive), a detail view (the full heatmap, the
top words and the evidence) and the global-importance charts (:mod:`limelight.jobs.global_importance`).

Everything is in the file: the script and style are inline (``explorer.js``, ``explorer.css``
next to this module) and a Content-Security-Policy allows only those two, by hash, and no
network at all. The data travels as JSON in a ``<script type="application/json">`` element with
``<``, ``>``, ``&`` and line separators escaped, and the script writes every value with
``textContent``, never as markup, so no byte from the data can become HTML or script. Control and
bidirectional-override characters are shown escaped (:func:`limelight.viz.records.visible`).
Colours come from :mod:`limelight.viz.colors`, on one scale shared by every row.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

from limelight.engine.validation import check_count
from limelight.jobs.global_importance import GlobalImportance, global_importance
from limelight.jobs.results import Results, read_results
from limelight.text.explanation import Explanation
from limelight.viz.colors import NEGATIVE_EXTREME, POSITIVE_EXTREME, ColorScale, choose_scales
from limelight.viz.records import one_line, pieces, visible

TOP_WORDS = 10
"""Words per row in the detail view, and per label in the charts."""


def save_explorer(
    results: Results, path: str | os.PathLike[str], *, title: str | None = None, importance: GlobalImportance | None = None
) -> Path:
    """Write the explorer page of ``results`` (a job's output path, its DataFrame, or explanations) to ``path``."""
    target = Path(path)
    target.write_text(explorer_html(results, title=title, importance=importance), encoding="utf-8")
    return target


def explorer_html(results: Results, *, title: str | None = None, importance: GlobalImportance | None = None, top: int = TOP_WORDS) -> str:
    """The explorer page as a string (see :func:`save_explorer`)."""
    check_count("top", top)
    frame = read_results(results)
    if importance is None:
        importance = global_importance(frame, n_bootstrap=200)
    decoded = [Explanation.from_json(e) if isinstance(e, str) and e else None for e in frame["explanation"]]
    groups = [[s.score for s in e.word_spans] for e in decoded if e is not None]
    scale = choose_scales(groups or [[]])[0]
    rows = [_row(record, explanation, scale, top) for record, explanation in zip(frame.to_dict("records"), decoded)]
    charts = {
        one_line(label): [[visible(r.word), r.mean, r.low, r.high, r.count] for r in importance.top(label, top).itertuples()]
        for label in importance.labels
    }
    name = title or "limelight dataset explorer"
    data = {
        "title": one_line(name),
        "scale": scale.description,
        "rows": rows,
        "charts": charts,
        "colors": [POSITIVE_EXTREME, NEGATIVE_EXTREME],
    }
    script, style = _asset("explorer.js"), _asset("explorer.css")
    policy = (
        f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; img-src 'none'; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(one_line(name))}</title><style>{style}</style></head><body>"
        f'<script type="application/json" id="ll-data">{_json_for_html(data)}</script>'
        f"<script>{script}</script></body></html>\n"
    )


def _row(record: dict[str, Any], explanation: Explanation | None, scale: ColorScale, top: int) -> dict[str, Any]:
    """One table row as compact JSON: id, text (for search), labels, numbers, heatmap pieces, top words."""
    heat: list[list[Any]] = []
    words: list[list[Any]] = []
    if explanation is None:
        heat = [[visible(str(record.get("text") or "")), None]]
    else:
        for number, segment in enumerate(pieces(explanation, "word")):
            if number:
                heat.append(["  |  ", None])
            for piece in segment:
                if piece.span is None:
                    heat.append([visible(piece.text), None])
                else:
                    shade = scale.shade(piece.span.score)
                    heat.append([visible(piece.text), piece.span.score, shade.background, shade.foreground, shade.saturated])
        ranked = sorted(explanation.word_spans, key=lambda s: -abs(s.score))[:top]
        words = [[visible(s.text), s.score] for s in ranked]
    return {
        "i": one_line(str(record["id"])),
        "t": str(record.get("text") or ""),
        "l": _name(record.get("label")),
        "p": _name(record.get("prediction")),
        "g": _name(record.get("target")),
        "q": _number(record.get("probability")),
        "d": _number(record.get("delta")),
        "n": _number(record.get("steps")),
        "c": _flag(record.get("converged")),
        "k": _flag(record.get("correct")),
        "e": None if _missing(record.get("error")) else one_line(str(record["error"])),
        "h": heat,
        "w": words,
    }


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _name(value: Any) -> str | None:
    return None if _missing(value) else one_line(str(value))


def _number(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _flag(value: Any) -> bool | None:
    return None if _missing(value) else bool(value)


def _json_for_html(data: Any) -> str:
    """JSON that cannot end its ``<script>`` element or be read as markup (``<``, ``>``, ``&``, U+2028/9 escaped)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _asset(name: str) -> str:
    return resources.files("limelight.jobs").joinpath(name).read_text(encoding="utf-8")


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"
