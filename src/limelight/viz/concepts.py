"""Views of TCAV results: bars of each concept's score per layer against random directions (PNG/SVG, HTML).

A TCAV score only means something next to the scores random directions get, so every view shows
both, with the spread over runs and which differences survive the Bonferroni-corrected test.
Concept and layer names come from the user: they are escaped in HTML and drawn with math parsing
off in figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from limelight.engine.concepts.result import TCAVResult
from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.viz.html import Markup, document, fragment, tag

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SIGNIFICANT_MARK = "*"
"""Drawn above a bar (and beside a table row) whose score differs from random after the correction."""


def _what(result: TCAVResult, target_name: str | None) -> str:
    target = repr(target_name) if target_name is not None else f"output {result.target}"
    return (
        f"TCAV scores for {target}: the share of {result.n_examples} examples whose derivative along the concept points up, "
        f"mean ± sd over {result.n_runs} runs; random: directions of random sets. {SIGNIFICANT_MARK}: differs from random "
        f"(Welch t-test, Bonferroni-corrected p < {result.alpha:g})"
    )


def tcav_body(result: TCAVResult, target_name: str | None = None) -> Markup:
    """The HTML table of a TCAV result (one row per concept and layer) without the page around it."""
    header = tag("tr", *(tag("th", name) for name in ("concept", "layer", "TCAV score", "random", "CAV accuracy", "p (corrected)", "")))
    rows = [
        tag(
            "tr",
            tag("td", row["concept"]),
            tag("td", row["layer"]),
            tag("td", f"{row['score']:.2f} ± {row['score_std']:.2f}"),
            tag("td", f"{row['random_score']:.2f}"),
            tag("td", f"{row['cav_accuracy']:.2f}"),
            tag("td", f"{row['p_adjusted']:.1e}"),
            tag("td", SIGNIFICANT_MARK if row["significant"] else ""),
            class_="ll-significant" if row["significant"] else None,
        )
        for row in result.rows()
    ]
    return Markup(tag("div", _what(result, target_name), class_="ll-header") + tag("table", header, *rows, class_="ll-tcav"))


def render_tcav_html(result: TCAVResult) -> str:
    """An embeddable HTML fragment of the result's table (the Jupyter view of :class:`TCAVResult`)."""
    return fragment(tcav_body(result))


def plot_tcav(result: TCAVResult, target_name: str | None = None) -> Figure:
    """A bar per concept and layer (error bar: sd over runs), the random mean as a white diamond, the 0.5 line dashed."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("image export needs matplotlib: pip install 'limelight[plot]'") from error
    bars = len(result.layers) * max(len(result.concepts), 1)
    figure = Figure(figsize=(min(12.0, max(4.5, 1.5 + 0.35 * bars)), 3.4), layout="constrained")
    figure.set_facecolor("white")
    ax = figure.add_subplot()
    width = 0.8 / max(len(result.concepts), 1)
    for c, concept in enumerate(result.concepts):
        offsets = [i - 0.4 + width * (c + 0.5) for i in range(len(result.layers))]
        means, spreads = result.mean[c].tolist(), result.scores[c].std(-1).nan_to_num(0.0).tolist()
        ax.bar(offsets, means, width, yerr=spreads, label=concept, capsize=2)
        ax.plot(offsets, result.random_mean[c].tolist(), "D", color="black", markerfacecolor="white", markersize=4)
        for i, offset in enumerate(offsets):
            if result.significant[c, i]:
                ax.text(offset, means[i] + spreads[i] + 0.02, SIGNIFICANT_MARK, ha="center", fontsize=12, parse_math=False)
    ax.axhline(0.5, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(result.layers)), list(result.layers))
    for label in ax.get_xticklabels():
        label.set_parse_math(False)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("TCAV score", parse_math=False)
    ax.set_title(_what(result, target_name), fontsize=7, wrap=True, parse_math=False)
    legend = ax.legend(fontsize=8, loc="upper left", ncols=3)
    for text in legend.get_texts():
        text.set_parse_math(False)
    return figure


def save_tcav(path: str | Path, result: TCAVResult, target_name: str | None = None, dpi: float = 150.0) -> Path:
    """Write the result to ``path``: a self-contained ``.html`` table, or a ``.png``/``.svg``/``.pdf`` bar chart."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".html":
        path.write_text(document(tcav_body(result, target_name), "limelight TCAV"), encoding="utf-8")
    elif suffix in {".png", ".svg", ".pdf"}:
        plot_tcav(result, target_name).savefig(path, dpi=dpi)
    else:
        raise InvalidInputError(f"cannot tell the format from {path.name!r}: use a .html, .png, .svg or .pdf name")
    return path
