"""HTML views: word heatmaps, side-by-side comparison, and a self-contained file.

Markup is built only through :func:`tag`, which escapes every child and attribute value that
is not already :class:`Markup`, so text, tokens and label names from the user or the model
config can never become markup. The output has no script and loads nothing: colours are inline
styles, the tooltip is the ``title`` attribute, the stylesheet is embedded.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation
from limelight.viz.align import align
from limelight.viz.colors import DEFAULT_PERCENTILE, SATURATION_MARK, ColorScale, diverging_rgb, to_hex
from limelight.viz.records import (
    ExplanationsLike,
    Level,
    Piece,
    as_explanation_list,
    color_scales,
    exact_score,
    format_score,
    is_marked,
    pieces,
    segment_texts,
    summarize,
    visible,
)

_LEGEND_STOPS = 21

STYLESHEET = """
.limelight{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;font-size:15px;
 line-height:1.9;color:#1a1a1a;background:#fff;padding:8px 10px}
.limelight .ll-record{border-top:1px solid #d0d0d0;padding:6px 0 10px}
.limelight .ll-header{font-size:12px;line-height:1.5;color:#333;display:flex;flex-wrap:wrap;gap:2px 16px}
.limelight .ll-name{font-weight:700;margin-right:4px}
.limelight .ll-ok{color:#1b6e20}
.limelight .ll-warning{background:#fff3cd;border:1px solid #9a6b00;color:#4d3600;font-weight:700;font-size:13px;
 line-height:1.4;padding:3px 6px;margin:4px 0}
.limelight .ll-text{white-space:pre-wrap;margin-top:4px}
.limelight .ll-chip{border-radius:3px;padding:1px 1px;unicode-bidi:isolate}
.limelight .ll-special{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:11px;border:1px dashed #777}
.limelight .ll-legend{font-size:12px;line-height:1.4;margin:2px 0 8px;max-width:480px}
.limelight .ll-bar{height:14px;border:1px solid #888}
.limelight .ll-ticks{display:flex;justify-content:space-between;font-variant-numeric:tabular-nums}
.limelight .ll-compare{overflow-x:auto}
.limelight table{border-collapse:separate;border-spacing:3px 6px}
.limelight th{text-align:left;font-weight:400;font-size:12px;line-height:1.4;vertical-align:top;padding-right:10px;
 max-width:320px}
.limelight td{white-space:nowrap;vertical-align:top;text-align:center;border-top:3px solid transparent}
.limelight td.ll-differs{border-top-color:#555}
.limelight td.ll-pair-start{border-left:2px solid #555;padding-left:4px}
.limelight .ll-marked{outline:2px solid #111;outline-offset:1px}
.limelight .ll-segment{font-size:11px;color:#555;text-transform:uppercase;letter-spacing:.04em;margin-right:6px}
""".strip()


class Markup(str):
    """A string that is already safe HTML and is inserted as is."""


def escape(value: object) -> Markup:
    """``value`` as HTML text: unchanged if already :class:`Markup`, else fully escaped."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


def tag(name: str, *children: object, **attributes: object) -> Markup:
    """``<name attributes>children</name>`` with children and attribute values escaped.

    Attribute names come from code, never from data: ``class_`` becomes ``class`` and
    ``data_score`` becomes ``data-score``; ``None`` values are left out.
    """
    attrs = "".join(f' {key.rstrip("_").replace("_", "-")}="{escape(value)}"' for key, value in attributes.items() if value is not None)
    return Markup(f"<{name}{attrs}>" + "".join(escape(child) for child in children) + f"</{name}>")


def _join(parts: Sequence[object]) -> Markup:
    return Markup("".join(escape(part) for part in parts))


def _piece_html(piece: Piece, scale: ColorScale, quantity: str, marked: bool = False) -> Markup:
    """Plain text as text; a scored span as a coloured box whose tooltip gives the exact score (outlined when ``marked``)."""
    if piece.span is None:
        return escape(visible(piece.text))
    score = piece.span.score
    shade = scale.shade(score)
    style = f"background-color:{shade.background};color:{shade.foreground}"
    tooltip = f"{visible(piece.span.text)}: {exact_score(score)} ({quantity} attribution)"
    if shade.saturated:
        style += f";box-shadow:inset 0 0 0 2px {SATURATION_MARK}"
        tooltip += f"; saturated: beyond the colour scale ±{scale.limit:.3g}"
    if marked:
        tooltip += "; the explained output is about this word"
    classes = "ll-chip" + (" ll-special" if piece.synthetic else "") + (" ll-saturated" if shade.saturated else "")
    classes += " ll-marked" if marked else ""
    return tag(
        "span",
        visible(piece.text),
        class_=classes,
        style=style,
        title=tooltip,
        data_index=piece.index,
        data_score=exact_score(score),
    )


def legend(scale: ColorScale) -> Markup:
    """A colour bar with numeric ticks, saying how the scale was chosen and what outlines mean."""
    stops = ", ".join(
        f"{to_hex(diverging_rgb(2.0 * i / (_LEGEND_STOPS - 1) - 1.0))} {100.0 * i / (_LEGEND_STOPS - 1):g}%" for i in range(_LEGEND_STOPS)
    )
    ticks = [tag("span", format_score(t) if t else "0") for t in scale.ticks()]
    return tag(
        "div",
        tag("div", scale.description),
        tag(
            "div",
            class_="ll-bar",
            style=f"background:linear-gradient(to right, {stops})",
            role="img",
            aria_label=f"colour bar from {-scale.limit:.3g} (blue) through 0 (white) to {scale.limit:.3g} (orange)",
        ),
        tag("div", *ticks, class_="ll-ticks"),
        tag("div", "Outlined words are saturated: their |score| is beyond the scale. Hover a word for its exact score."),
        class_="ll-legend",
    )


def _header(explanation: Explanation, level: Level, label: str | None = None) -> Markup:
    summary = summarize(explanation, level)
    facts = [
        tag(
            "span",
            tag("span", name, class_="ll-name"),
            " ",
            value,
            class_="ll-ok" if name == "delta" and summary.converged else None,
        )
        for name, value in summary.items()
    ]
    words = ([tag("strong", label)] if label else []) + facts
    parts = [tag("div", *[part for word in words for part in (word, " ")][:-1], class_="ll-header")]
    if summary.warning:
        parts.append(tag("div", "\N{WARNING SIGN} " + summary.warning, class_="ll-warning", role="alert"))
    return _join(parts)


def _record(explanation: Explanation, index: int, level: Level, scale: ColorScale, show_legend: bool) -> Markup:
    names = explanation.segment_names
    texts = [
        tag(
            "div",
            *([tag("span", names[number], class_="ll-segment")] if number < len(names) else []),
            *[_piece_html(p, scale, explanation.quantity, is_marked(explanation, p)) for p in segment],
            class_="ll-text",
            data_segment=number,
        )
        for number, segment in enumerate(pieces(explanation, level))
    ]
    return tag(
        "section",
        _header(explanation, level),
        *texts,
        *([legend(scale)] if show_legend else []),
        class_="ll-record",
        data_index=index,
    )


def records_body(
    explanations: ExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> Markup:
    """One heatmap record per explanation, with one legend for a shared scale or one per text."""
    items = as_explanation_list(explanations)
    scales = color_scales(items, level, scale, percentile)
    per_text = scales[0].per_text
    records = [_record(e, i, level, s, per_text) for i, (e, s) in enumerate(zip(items, scales))]
    return _join(([] if per_text else [legend(scales[0])]) + records)


@dataclass(frozen=True)
class _Cell:
    piece: Piece
    segment: int
    before: str = ""
    after: str = ""


def _cells(explanation: Explanation, level: Level) -> list[_Cell]:
    """The scored pieces of an explanation, each carrying the plain text next to it."""
    cells: list[_Cell] = []
    for segment_number, segment in enumerate(pieces(explanation, level)):
        pending = ""
        first = len(cells)
        for piece in segment:
            if piece.span is not None:
                cells.append(_Cell(piece, segment_number, before=pending))
                pending = ""
            elif len(cells) > first:
                cells[-1] = replace(cells[-1], after=cells[-1].after + piece.text.strip())
            else:
                pending += piece.text.strip()
        if pending:  # a segment with plain text but no scored piece still shows its text
            cells.append(_Cell(Piece(pending), segment_number))
    return cells


def _default_labels(items: list[Explanation]) -> list[str]:
    same_text = len({tuple(segment_texts(e)) for e in items}) == 1
    if same_text and len({e.method for e in items}) == len(items):
        return [e.method for e in items]
    return [f"text {i + 1}" for i in range(len(items))]


def compare_body(
    explanations: ExplanationsLike,
    labels: Sequence[str] | None = None,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> Markup:
    """Several explanations as rows of one table, words aligned in columns, on one colour scale.

    Use it for a minimal pair (columns whose words differ are marked) or for one text under
    several methods. Labels default to the method names (same text) or ``text 1, text 2, ...``.
    """
    items = as_explanation_list(explanations)
    if scale == "per_text":
        raise InvalidInputError("a comparison needs one colour scale for all rows: use scale='shared' or a number")
    labels = _default_labels(items) if labels is None else list(labels)
    if len(labels) != len(items):
        raise InvalidInputError(f"got {len(labels)} labels for {len(items)} explanations; give one label per row")
    shared = color_scales(items, level, scale, percentile)[0]
    rows_cells = [_cells(e, level) for e in items]
    columns = align([[(c.segment, c.piece.text.casefold()) for c in cells] for cells in rows_cells])
    keys = [
        {(cells[i].segment, cells[i].piece.text.casefold()) if i is not None else None for cells, i in zip(rows_cells, col)}
        for col in zip(*columns)
    ]
    rows = []
    for explanation, label, cells, column in zip(items, labels, rows_cells, columns):
        tds = []
        previous_segment = 0
        for position, i in enumerate(column):
            classes = ["ll-differs"] if len(keys[position]) > 1 else []
            content: list[object] = []
            if i is not None:
                cell = cells[i]
                if cell.segment != previous_segment:
                    classes.append("ll-pair-start")
                previous_segment = cell.segment
                content = [
                    visible(cell.before),
                    _piece_html(cell.piece, shared, explanation.quantity),
                    visible(cell.after),
                ]
            tds.append(tag("td", *content, class_=" ".join(classes) or None))
        rows.append(tag("tr", tag("th", _header(explanation, level, label), scope="row"), *tds))
    note = tag("div", "A bar above a column marks where the rows' words differ.", class_="ll-legend")
    return _join([legend(shared), note, tag("div", tag("table", tag("tbody", *rows)), class_="ll-compare")])


def fragment(body: Markup) -> str:
    """An embeddable HTML fragment (e.g. for Jupyter) carrying its own stylesheet."""
    return str(tag("div", tag("style", Markup(STYLESHEET)), body, class_="limelight"))


def document(body: Markup, title: str) -> str:
    """A complete, self-contained HTML5 document: UTF-8, embedded styles, no scripts, no links."""
    head = tag(
        "head",
        Markup('<meta charset="utf-8">'),
        Markup('<meta name="viewport" content="width=device-width, initial-scale=1">'),
        tag("title", title),
        tag("style", Markup(STYLESHEET)),
    )
    page = tag("body", tag("h1", title, style="font:600 18px sans-serif"), tag("div", body, class_="limelight"))
    return "<!DOCTYPE html>\n" + str(tag("html", head, page, lang="en")) + "\n"


def render_html(
    explanations: ExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> str:
    """Heatmap HTML fragment for one or many explanations (shared colour scale by default).

    ``level``: ``"word"`` or ``"token"``. ``scale``: ``"shared"`` (comparable colours),
    ``"per_text"`` (each text on its own scale, labelled so), or a fixed positive limit.
    ``percentile`` of ``|score|`` sets the limit; scores beyond it are outlined as saturated.
    """
    return fragment(records_body(explanations, level, scale, percentile))


def compare_html(
    explanations: ExplanationsLike,
    labels: Sequence[str] | None = None,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> str:
    """Side-by-side HTML fragment: texts (or methods) as aligned rows on one colour scale."""
    return fragment(compare_body(explanations, labels, level, scale, percentile))


def save_html(
    path: str | Path,
    explanations: ExplanationsLike,
    *,
    compare: bool = False,
    labels: Sequence[str] | None = None,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    title: str = "limelight explanations",
) -> Path:
    """Write a self-contained HTML file (works offline) and return its path.

    ``compare=True`` writes the aligned side-by-side table instead of one record per text.
    """
    if compare:
        body = compare_body(explanations, labels, level, scale, percentile)
    elif labels is not None:
        raise InvalidInputError("labels name the rows of a comparison; pass compare=True or drop labels")
    else:
        body = records_body(explanations, level, scale, percentile)
    path = Path(path)
    path.write_text(document(body, title), encoding="utf-8")
    return path
