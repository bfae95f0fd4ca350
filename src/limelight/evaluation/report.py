"""Rendering a :class:`~.comparison.Comparison`: Markdown, HTML (self-contained, user data escaped), pandas.

HTML is built with :func:`limelight.viz.html.tag`, which escapes every text and attribute value,
and reuses the side-by-side view of :mod:`limelight.viz` to show the inputs methods disagree on.
Markdown escapes user text too (HTML entities, and backslashes before Markdown punctuation), so a
text cannot break the table or inject markup into a rendered page.

Importing this module registers its views of a comparison with :mod:`limelight._display`, where
the :class:`~.comparison.Comparison` methods find them (``limelight.evaluation`` imports it).
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np

from limelight._display import register_html, register_view
from limelight._optional import pandas
from limelight.engine.validation import check_choice
from limelight.text.explanation import Explanation
from limelight.vision.explanation import ImageExplanation, ImageExplanations
from limelight.viz.html import Markup, compare_body, document, fragment, tag
from limelight.viz.image import image_body

from .comparison import REPORT_TITLE, Comparison
from .metrics import METRICS

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*|~]|(?<!\w)_|_(?!\w)|\](?=[(\[:]))")
_TEXT_WIDTH = 90

EVAL_STYLES = """
.limelight .ll-eval td,.limelight .ll-eval th{text-align:left;padding:2px 8px;white-space:normal;font-size:13px}
.limelight .ll-eval thead th{font-weight:700;border-bottom:1px solid #888}
.limelight .ll-eval td.ll-num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.limelight .ll-eval tr.ll-flag td{background:#fff3cd}
.limelight .ll-recommendation{font-size:15px;line-height:1.5;max-width:900px}
""".strip()


def markdown_text(value: object) -> str:
    """User text for Markdown: one line, HTML-escaped, and a backslash before every character that could
    start emphasis, code or a table cell (``_`` only where it is not inside a word) and before a ``]``
    that would close a link (``](``, ``][``, ``]:``)."""
    flat = " ".join(str(value).split())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(flat, quote=False))


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _TEXT_WIDTH else flat[: _TEXT_WIDTH - 1] + "…"


def _input_kind(comparison: Comparison) -> str:
    """What the compared inputs are, for column headers: ``"image"`` or ``"text"``."""
    return "image" if any(isinstance(r.explanations, ImageExplanations) for r in comparison.results.values()) else "text"


def _header_cells(comparison: Comparison) -> list[str]:
    registry = comparison.registry or METRICS
    return ["method", *(f"{registry[m].label} {registry[m].arrow}" for m in comparison.metrics), "explain time (s)", "metric time (s)"]


def _row_cells(comparison: Comparison, method: str) -> list[str]:
    result = comparison.results[method]
    return [
        method,
        *(result.summary[m].format() for m in comparison.metrics),
        f"{result.explain_seconds:.1f}",
        f"{result.metric_seconds:.1f}",
    ]


def _settings_line(comparison: Comparison) -> str:
    s = comparison.settings
    return (
        f"{s['n_inputs']} inputs; metrics measure {s['quantity']}; erased {s.get('features', 'words')}: {s['fill']}; "
        f"{s.get('features', 'words')} ranked by {s['rank_by']} score; {s['confidence']:.0%} bootstrap intervals over inputs from {s['n_bootstrap']} resamples "
        f"(seed {s['seed']}); {s['model_rows']} model rows evaluated. ↑ higher is better, ↓ lower is better; n/a: undefined for the method."
    )


def _flagged(comparison: Comparison) -> list[int]:
    if comparison.agreement is None:
        return []
    mean = comparison.agreement.mean
    flagged = np.flatnonzero(comparison.agreement.flagged)
    return sorted(flagged.tolist(), key=lambda i: mean[i])


def _agreement_line(comparison: Comparison) -> str:
    agreed = comparison.agreement
    if agreed is None:
        return "Agreement needs at least two methods."
    defined = agreed.mean[~np.isnan(agreed.mean)]
    average = f"{defined.mean():.2f}" if defined.size else "n/a"
    return (
        f"Mean pairwise Spearman between methods, averaged over inputs: {average}. "
        f"Flagged (mean below {agreed.threshold:g}): {int(agreed.flagged.sum())} of {len(agreed.mean)} inputs."
    )


def _pair(comparison: Comparison, index: int) -> str:
    pair = comparison.agreement.least_agreeing(index) if comparison.agreement else None
    return "n/a" if pair is None else f"{pair[0]} vs {pair[1]} ({comparison.agreement.pairs[pair][index]:.2f})"  # type: ignore[union-attr]


def markdown(comparison: Comparison, max_flagged: int = 10) -> str:
    """The comparison as Markdown: recommendation, table per method, settings, flagged inputs."""
    header = _header_cells(comparison)
    lines = ["## Which explanation to trust", "", markdown_text(comparison.recommendation), ""]
    lines.append("| " + " | ".join(markdown_text(c) for c in header) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    for method in comparison.methods:
        lines.append("| " + " | ".join(markdown_text(c) for c in _row_cells(comparison, method)) + " |")
    lines += ["", _settings_line(comparison), "", "### Agreement between methods", "", _agreement_line(comparison)]
    flagged = _flagged(comparison)[:max_flagged]
    if flagged:
        lines += ["", f"| # | {_input_kind(comparison)} | mean rho | least agreeing pair |", "|---:|---|---:|---|"]
        for index in flagged:
            mean = comparison.agreement.mean[index]  # type: ignore[union-attr]  # flagged inputs imply agreement
            cells = [str(index), _short(comparison.texts[index]), f"{mean:.2f}", _pair(comparison, index)]
            lines.append("| " + " | ".join(markdown_text(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _table(comparison: Comparison) -> Markup:
    head = tag("thead", tag("tr", *(tag("th", c, scope="col") for c in _header_cells(comparison))))
    rows = []
    for method in comparison.methods:
        cells = _row_cells(comparison, method)
        rows.append(tag("tr", tag("th", cells[0], scope="row"), *(tag("td", c, class_="ll-num") for c in cells[1:])))
    return tag("table", head, tag("tbody", *rows), class_="ll-eval")


def _inputs_table(comparison: Comparison) -> Markup:
    primary = comparison.primary
    head = tag(
        "thead",
        tag(
            "tr",
            *(
                tag("th", c, scope="col")
                for c in ["#", _input_kind(comparison), "agreement", *(f"{m}: {primary}" for m in comparison.methods)]
            ),
        ),
    )
    flags = comparison.agreement.flagged if comparison.agreement else np.zeros(len(comparison.texts), dtype=bool)
    rows = []
    for index, text in enumerate(comparison.texts):
        mean = comparison.agreement.mean[index] if comparison.agreement else math.nan
        values = [comparison.results[m].values[primary][index] for m in comparison.methods]
        cells = [tag("td", str(index), class_="ll-num"), tag("td", _short(text), title=text), tag("td", _number(mean), class_="ll-num")]
        cells += [tag("td", _number(v), class_="ll-num") for v in values]
        rows.append(tag("tr", *cells, class_="ll-flag" if flags[index] else None))
    return tag("table", head, tag("tbody", *rows), class_="ll-eval")


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3g}"


def _body(comparison: Comparison, max_flagged: int) -> Markup:
    parts: list[Markup] = [
        tag("style", Markup(EVAL_STYLES)),
        tag("p", comparison.recommendation, class_="ll-recommendation"),
        tag("div", _table(comparison), class_="ll-compare"),
        tag("p", _settings_line(comparison), class_="ll-legend"),
        tag("h2", "Agreement between methods", style="font:600 16px sans-serif"),
        tag("p", _agreement_line(comparison)),
    ]
    for index in _flagged(comparison)[:max_flagged]:
        parts.append(
            tag("h3", f"Input {index}: methods disagree (least agreeing: {_pair(comparison, index)})", style="font:600 14px sans-serif")
        )
        shown = [comparison.results[m].explanations[index] for m in comparison.methods]
        if isinstance(shown[0], ImageExplanation):
            parts.append(image_body(ImageExplanations(e for e in shown if isinstance(e, ImageExplanation))))
        else:
            parts.append(compare_body([e for e in shown if isinstance(e, Explanation)], comparison.methods))
    parts.append(tag("details", tag("summary", "Every input (flagged rows highlighted)"), _inputs_table(comparison)))
    return Markup("".join(parts))


def html_fragment(comparison: Comparison, max_flagged: int = 3) -> str:
    """An embeddable HTML fragment of the report (for Jupyter)."""
    return fragment(_body(comparison, max_flagged))


def html_document(comparison: Comparison, max_flagged: int = 5, title: str = REPORT_TITLE) -> str:
    """A complete self-contained HTML page of the report."""
    return document(_body(comparison, max_flagged), title)


def dataframe(comparison: Comparison, level: str = "method") -> Any:
    """The comparison as a pandas DataFrame (see :meth:`Comparison.to_dataframe`)."""
    check_choice("level", level, ("method", "input"))
    pd = pandas()
    rows = []
    if level == "method":
        for name, result in comparison.results.items():
            row: dict[str, Any] = {"method": name}
            for metric in comparison.metrics:
                summary = result.summary[metric]
                row.update({metric: summary.mean, f"{metric}_low": summary.low, f"{metric}_high": summary.high, f"{metric}_n": summary.n})
            row.update({"explain_seconds": result.explain_seconds, "metric_seconds": result.metric_seconds})
            rows.append(row)
        return pd.DataFrame(rows)
    agreed, kind = comparison.agreement, _input_kind(comparison)
    for index, text in enumerate(comparison.texts):
        for name, result in comparison.results.items():
            row = {"input": index, kind: text, "method": name}
            row.update({metric: float(result.values[metric][index]) for metric in comparison.metrics})
            row["agreement"] = float(agreed.mean[index]) if agreed else math.nan
            row["flagged"] = bool(agreed.flagged[index]) if agreed else False
            rows.append(row)
    return pd.DataFrame(rows)


register_view(Comparison, "markdown", markdown)
register_view(Comparison, "html_document", html_document)
register_view(Comparison, "dataframe", dataframe)
register_html(Comparison, html_fragment)
