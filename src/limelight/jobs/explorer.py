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

Image rows show their overlay thumbnail (the PNG the job kept, as a ``data:image/png`` URI: the
policy then allows ``data:`` images and nothing else) with the path or name as text; generation
rows show the prompt as a heatmap of the sequence scores and the generated text.
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
from limelight.jobs.frontends import FrontEnd
from limelight.jobs.global_importance import GlobalImportance, global_importance
from limelight.jobs.results import Results, front_end_of_rows, read_results
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
    front = front_end_of_rows(frame)
    if importance is None:
        importance = global_importance(frame, n_bootstrap=200)
    records = frame.to_dict("records")
    rows, description = _rows(records, front, top)
    charts = {
        one_line(label): [[visible(r.word), r.mean, r.low, r.high, r.count] for r in importance.top(label, top).itertuples()]
        for label in importance.labels
    }
    name = title or "limelight dataset explorer"
    data = {
        "title": one_line(name),
        "kind": front.name,
        "scale": description,
        "rows": rows,
        "charts": charts,
        "colors": [POSITIVE_EXTREME, NEGATIVE_EXTREME],
    }
    script, style = _asset("explorer.js"), _asset("explorer.css")
    images = "data:" if front.name == "image" else "'none'"
    policy = (
        f"default-src 'none'; script-src {_hash(script)}; style-src {_hash(style)}; img-src {images}; base-uri 'none'; form-action 'none'"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(one_line(name))}</title><style>{style}</style></head><body>"
        f'<script type="application/json" id="ll-data">{_json_for_html(data)}</script>'
        f"<script>{script}</script></body></html>\n"
    )


def _rows(records: list[dict[str, Any]], front: FrontEnd, top: int) -> tuple[list[dict[str, Any]], str]:
    """The table rows of ``records`` as compact JSON, and the colour scale's description."""
    if front.name == "image":
        return [_image_row(record) for record in records], "each thumbnail on its own scale (colours are not comparable across images)"
    if front.name == "generation":
        groups = [list(r["sequence_scores"]) for r in records if _missing(r.get("error")) and r.get("sequence_scores") is not None]
        shared = choose_scales(groups or [[]])[0]
        return [_generation_row(record, shared, top) for record in records], shared.description
    decoded = [Explanation.from_json(e) if isinstance(e, str) and e else None for e in (r.get("explanation") for r in records)]
    groups = [[s.score for s in e.word_spans] for e in decoded if e is not None]
    scale = choose_scales(groups or [[]])[0]
    return [_text_row(record, explanation, scale, top) for record, explanation in zip(records, decoded)], scale.description


def _text_row(record: dict[str, Any], explanation: Explanation | None, scale: ColorScale, top: int) -> dict[str, Any]:
    """One text row: the heatmap pieces of its words and its top words."""
    heat: list[list[Any]] = []
    words: list[list[Any]] = []
    if explanation is None:
        heat = [[visible(str(record.get("text") or "")), None]]
    else:
        for number, segment in enumerate(pieces(explanation, "word")):
            if number:
                heat.append(["  |  ", None])
            for piece in segment:
                heat.append([visible(piece.text), None] if piece.span is None else _scored(piece.text, piece.span.score, scale))
        ranked = sorted(explanation.word_spans, key=lambda s: -abs(s.score))[:top]
        words = [[visible(s.text), s.score] for s in ranked]
    return {**_facts(record, str(record.get("text") or "")), "h": heat, "w": words}


def _image_row(record: dict[str, Any]) -> dict[str, Any]:
    """One image row: its path or name, and its overlay thumbnail as a PNG data URI (no words)."""
    shown = str(record.get("image") or "")
    picture = record.get("thumbnail")
    uri = None if _missing(picture) or not picture else "data:image/png;base64," + base64.b64encode(bytes(picture)).decode("ascii")
    return {**_facts(record, shown), "h": [[visible(shown), None]], "w": [], "m": uri}


def _generation_row(record: dict[str, Any], scale: ColorScale, top: int) -> dict[str, Any]:
    """One generation row: the prompt as a heatmap of the features' sequence scores, and the generated text."""
    prompt = str(record.get("prompt") or "")
    heat: list[list[Any]] = []
    words: list[list[Any]] = []
    scores = record.get("sequence_scores")
    if not _missing(record.get("error")) or scores is None:
        heat = [[visible(prompt), None]]
    else:
        spans = sorted(zip(record["feature_starts"], record["feature_ends"], scores), key=lambda s: int(s[0]))
        position = 0
        for start, end, score in spans:
            if start > position:
                heat.append([visible(prompt[position:start]), None])
            heat.append(_scored(prompt[start:end], float(score), scale))
            position = max(position, int(end))
        if position < len(prompt):
            heat.append([visible(prompt[position:]), None])
        ranked = sorted(zip(record["features"], scores), key=lambda s: -abs(float(s[1])))[:top]
        words = [[visible(str(w)), float(v)] for w, v in ranked]
    delta = record.get("delta")
    worst = None if delta is None or _missing(delta) or not len(delta) else max(float(abs(d)) for d in delta)
    generated = record.get("generated_text")
    return {
        **_facts({**record, "delta": None}, prompt),
        "d": worst,
        "o": None if _missing(generated) else visible(str(generated)),
        "h": heat,
        "w": words,
    }


def _scored(text: str, score: float, scale: ColorScale) -> list[Any]:
    """A heatmap piece: the text, its score, background and text colours, whether the score saturates the scale."""
    shade = scale.shade(score)
    return [visible(text), score, shade.background, shade.foreground, shade.saturated]


def _facts(record: dict[str, Any], shown: str) -> dict[str, Any]:
    """The columns every row has: id, the input for search, labels, numbers, flags, the error."""
    return {
        "i": one_line(str(record["id"])),
        "t": shown,
        "l": _name(record.get("label")),
        "p": _name(record.get("prediction")),
        "g": _name(record.get("target")),
        "q": _number(record.get("probability")),
        "d": _number(record.get("delta")),
        "n": _number(record.get("steps")),
        "c": _flag(record.get("converged")),
        "k": _flag(record.get("correct")),
        "e": None if _missing(record.get("error")) else one_line(str(record["error"])),
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
