"""Views of head importance: a layer x head heatmap (HTML, PNG, SVG) and the layer contributions beside it.

Every grid shown together shares one colour scale of the library's diverging palette (white at
zero, orange positive, blue negative), so heads compare across texts; scores beyond the scale are
outlined. Texts, label names and layer names are escaped (HTML) or drawn with math parsing off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.text.heads import HeadImportance
from limelight.viz.colors import DEFAULT_PERCENTILE, SATURATION_MARK, ColorScale, choose_scales, diverging_rgb, robust_limit, to_hex
from limelight.viz.html import Markup, document, fragment, tag
from limelight.viz.records import exact_score, format_score, one_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KINDS = ("importance", "ablation")
SHOWS = ("mean", "texts", "all")
_STOPS = 21
_TITLE_CHARS = 60


@dataclass(frozen=True)
class Grid:
    """One ``(layers, heads)`` grid of scores and its caption."""

    title: str
    values: np.ndarray


def _short(text: str) -> str:
    line = one_line(text)
    return line if len(line) <= _TITLE_CHARS else line[: _TITLE_CHARS - 1] + "…"


def head_grids(result: HeadImportance, kind: str = "importance", show: str = "all") -> list[Grid]:
    """The grids a view draws: the mean over texts (``"mean"``), one per text (``"texts"``), or both (``"all"``)."""
    if kind not in KINDS or show not in SHOWS:
        raise InvalidInputError(f"kind must be one of {KINDS} and show one of {SHOWS}; got {kind!r}, {show!r}")
    table = result.scores if kind == "importance" else result.ablation
    if table is None:
        raise InvalidInputError("this result has no ablation check; run head_importance(..., ablation=True)")
    values = table.numpy()
    grids = []
    if show in ("mean", "all"):
        grids.append(Grid(f"mean over {len(result.texts)} text(s)", values.mean(0)))
    if show in ("texts", "all"):
        grids += [
            Grid(f"{_short(text)} → {one_line(label)}", grid) for text, label, grid in zip(result.texts, result.target_labels, values)
        ]
    return grids


def _scale(grids: list[Grid], scale: str | float, percentile: float) -> ColorScale:
    if scale == "per_text":
        raise InvalidInputError("head grids share one scale (scale='shared' or a fixed positive number)")
    if scale != "shared":
        return choose_scales([[]], scale, percentile)[0]
    values = [float(v) for g in grids for v in g.values.ravel()]
    if not all(math.isfinite(v) for v in values):
        raise InvalidInputError("scores must be finite to be coloured; found NaN or infinity")
    limit = robust_limit(values, percentile)
    return ColorScale(limit, f"shared scale ±{limit:.3g} ({percentile:g}th percentile of |score| over {len(grids)} grid(s))")


def _what(result: HeadImportance, kind: str) -> str:
    if kind == "ablation":
        return f"ablation: {result.quantity} with every head minus with all but this head"
    return f"head importance: integrated gradients of the {result.quantity} over a head mask ({result.n_steps} steps)"


def _legend(scale: ColorScale) -> Markup:
    stops = ", ".join(f"{to_hex(diverging_rgb(2.0 * i / (_STOPS - 1) - 1.0))} {100.0 * i / (_STOPS - 1):g}%" for i in range(_STOPS))
    ticks = [tag("span", format_score(t) if t else "0") for t in scale.ticks()]
    return tag(
        "div",
        tag("div", scale.description),
        tag("div", class_="ll-bar", style=f"background:linear-gradient(to right, {stops})", role="img", aria_label="colour bar"),
        tag("div", *ticks, class_="ll-ticks"),
        tag("div", "Outlined cells are saturated: beyond the scale. Hover a cell for its exact value."),
        class_="ll-legend",
    )


def _cell(value: float, scale: ColorScale, where: str) -> Markup:
    shade = scale.shade(value)
    style = f"background-color:{shade.background};color:{shade.foreground};min-width:2.6em;font-size:11px;line-height:1.6"
    if shade.saturated:
        style += f";box-shadow:inset 0 0 0 2px {SATURATION_MARK}"
    return tag("td", format_score(value), style=style, title=f"{where}: {exact_score(value)}", data_score=exact_score(value))


def _grid_table(grid: Grid, scale: ColorScale, layer_names: tuple[str, ...]) -> Markup:
    layers, heads = grid.values.shape
    header = tag("tr", tag("th", "layer \\ head"), *[tag("th", str(h)) for h in range(heads)])
    rows = [
        tag(
            "tr",
            tag("th", str(layer), title=layer_names[layer] if layer < len(layer_names) else None),
            *[_cell(float(grid.values[layer, h]), scale, f"layer {layer}, head {h}") for h in range(heads)],
        )
        for layer in range(layers)
    ]
    return tag("div", tag("div", grid.title, class_="ll-header"), tag("table", tag("tbody", header, *rows)), class_="ll-record")


def _evidence_line(result: HeadImportance) -> str:
    e = result.evidence
    if e.delta is None:
        return ""
    worst = float(e.delta.abs().max())
    return f"completeness: sum over heads = f(all heads) - f(no head) up to |delta| <= {worst:.2g} for every text"


def _layer_table(result: HeadImportance, percentile: float) -> Markup:
    if result.layer_scores is None:
        return Markup("")
    values = result.layer_scores.numpy()
    scale = choose_scales([values.ravel().tolist()], "shared", percentile)[0]
    header = tag("tr", tag("th", "text \\ layer"), *[tag("th", str(i), title=name) for i, name in enumerate(result.layer_names)])
    rows = [
        tag("tr", tag("th", _short(text)), *[_cell(float(v), scale, f"layer {i}") for i, v in enumerate(row)])
        for text, row in zip(result.texts, values)
    ]
    title = f"layer contribution: integrated gradients of the {result.quantity} over each layer's update"
    return tag("div", tag("div", title, class_="ll-header"), _legend(scale), tag("table", tag("tbody", header, *rows)), class_="ll-record")


def heads_body(
    result: HeadImportance,
    kind: str = "importance",
    show: str = "all",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> Markup:
    """The HTML of the heatmaps (and layer contributions) without the page around it."""
    grids = head_grids(result, kind, show)
    shared = _scale(grids, scale, percentile)
    parts = [tag("div", _what(result, kind), class_="ll-header"), tag("div", _evidence_line(result), class_="ll-header"), _legend(shared)]
    parts += [_grid_table(grid, shared, result.layer_names) for grid in grids]
    parts.append(_layer_table(result, percentile))
    return Markup("".join(parts))


def render_heads_html(
    result: HeadImportance,
    kind: str = "importance",
    show: str = "all",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> str:
    """An embeddable HTML fragment of the layer x head heatmaps (the Jupyter view of :class:`HeadImportance`)."""
    return fragment(heads_body(result, kind, show, scale, percentile))


def plot_heads(
    result: HeadImportance,
    kind: str = "importance",
    show: str = "all",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> Figure:
    """A matplotlib figure: one layer x head heatmap per grid on one colour scale, with a colour bar."""
    try:
        from matplotlib.colors import ListedColormap, Normalize
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("image export needs matplotlib: pip install 'limelight[plot]'") from error
    grids = head_grids(result, kind, show)
    shared = _scale(grids, scale, percentile)
    layers, heads = grids[0].values.shape
    columns = min(3, len(grids))
    rows = -(-len(grids) // columns)
    figure = Figure(figsize=(columns * (1.2 + 0.32 * heads), rows * (0.9 + 0.32 * layers) + 0.6), layout="constrained", facecolor="white")
    axes = figure.subplots(rows, columns, squeeze=False)
    cmap = ListedColormap([diverging_rgb(2.0 * i / 255 - 1.0) for i in range(256)])
    limit = shared.limit if shared.limit > 0 else 1.0
    image: Any = None
    for ax, grid in zip(axes.ravel(), grids):
        image = ax.imshow(grid.values, cmap=cmap, norm=Normalize(-limit, limit), interpolation="nearest", aspect="equal")
        ax.set_title(grid.title, fontsize=8, parse_math=False)
        ax.set_xlabel("head", fontsize=8)
        ax.set_ylabel("layer", fontsize=8)
        ax.set_xticks(range(heads))
        ax.set_yticks(range(layers))
        ax.tick_params(labelsize=7)
        for layer, head in zip(*np.nonzero(np.abs(grid.values) > shared.limit)):
            ax.add_patch(_outline(head, layer))
    for ax in axes.ravel()[len(grids) :]:
        ax.set_axis_off()
    bar = figure.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    bar.set_label(f"{_what(result, kind)}\n{shared.description}", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    return figure


def _outline(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.5, y - 0.5), 1.0, 1.0, fill=False, edgecolor=SATURATION_MARK, linewidth=1.2)


def save_heads(
    path: str | Path,
    result: HeadImportance,
    kind: str = "importance",
    show: str = "all",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    dpi: float = 150.0,
) -> Path:
    """Write the heatmaps to ``path``: a self-contained ``.html`` page, or a ``.png``/``.svg``/``.pdf`` figure."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".html":
        path.write_text(document(heads_body(result, kind, show, scale, percentile), "limelight head importance"), encoding="utf-8")
    elif suffix in {".png", ".svg", ".pdf"}:
        plot_heads(result, kind, show, scale, percentile).savefig(path, dpi=dpi)
    else:
        raise InvalidInputError(f"cannot tell the format from {path.name!r}: use a .html, .png, .svg or .pdf name")
    return path
