"""Static images with matplotlib: word heatmaps, top-word bar charts, delta-vs-steps plots.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through pyplot, so they
work from a plain script or server with no display, browser or notebook, and leave pyplot's
global state alone. Text is drawn in DejaVu Sans Mono (shipped with matplotlib), which makes
word widths predictable, and with math parsing off, so a ``$`` in user text stays a ``$``.
Requires the ``plot`` extra: ``pip install 'limelight[plot]'``.
"""

from __future__ import annotations

import math
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.text.explanation import Explanation
from limelight.viz.colors import (
    DEFAULT_PERCENTILE,
    NEGATIVE_EXTREME,
    POSITIVE_EXTREME,
    SATURATION_MARK,
    ColorScale,
    choose_scales,
    diverging_rgb,
)
from limelight.viz.image import ImageExplanationsLike, is_image_explanations, save_images
from limelight.viz.records import (
    ExplanationsLike,
    Level,
    as_explanation_list,
    color_scales,
    format_score,
    is_marked,
    one_line,
    pieces,
    spans_at,
    summarize,
    visible,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT = "DejaVu Sans Mono"
_ADVANCE = 0.62  # DejaVu Sans Mono advance is 0.602 em; the rest absorbs hinting at low dpi
_TEXT_SIZE = 12.0
_SMALL_SIZE = 8.5
_MARGIN = 12.0
_LEGEND_WIDTH = 300.0
_LEGEND_INDENT = 24.0  # room for the first tick label, centred on the bar's left end


def _figure(width_in: float, height_in: float, layout: Literal["constrained"] | None = None) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("image export needs matplotlib: pip install 'limelight[plot]'") from error
    return Figure(figsize=(width_in, height_in), facecolor="white", layout=layout)


def _display_width(text: str) -> int:
    """Width of ``text`` in monospace cells (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


@dataclass
class _Canvas:
    """Drawing operations laid out top-down in points, replayed onto a figure once its size is known."""

    width_chars: int
    ops: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    y: float = _MARGIN
    right: float = _MARGIN + 2 * _LEGEND_INDENT + _LEGEND_WIDTH

    @property
    def cell(self) -> float:
        return _ADVANCE * _TEXT_SIZE

    def text(self, x: float, text: str, size: float, **style: Any) -> None:
        self.ops.append(("text", dict(x=x, y=self.y, s=text, fontsize=size, **style)))
        self.right = max(self.right, x + _display_width(text) * _ADVANCE * size)

    def wrapped(self, text: str, size: float, **style: Any) -> None:
        """Write ``text`` at the left margin, wrapped to the canvas width, in lines of its own."""
        width = max(20, int(self.width_chars * _TEXT_SIZE / size))
        for line in textwrap.wrap(text, width, break_on_hyphens=False) or [""]:
            self.y += 1.5 * size
            self.text(_MARGIN, line, size, **style)

    def legend(self, scale: ColorScale) -> None:
        """Colour bar with ticks, scale description and the saturation note."""
        self.wrapped(scale.description, _SMALL_SIZE, color="#333333")
        self.y += 6.0
        self.ops.append(("bar", dict(x=_MARGIN + _LEGEND_INDENT, y=self.y, width=_LEGEND_WIDTH, height=10.0)))
        self.y += 10.0 + 1.4 * _SMALL_SIZE
        for tick, frac in zip(scale.ticks(), (0.0, 0.25, 0.5, 0.75, 1.0)):
            label = format_score(tick) if tick else "0"
            self.text(_MARGIN + _LEGEND_INDENT + frac * _LEGEND_WIDTH, label, _SMALL_SIZE, ha="center", color="#333333")
        self.wrapped("Outlined boxes are saturated: |score| beyond the scale.", _SMALL_SIZE, color="#333333")
        self.y += _SMALL_SIZE


def _words(canvas: _Canvas, explanation: Explanation, index: int, level: Level, scale: ColorScale) -> None:
    """Lay out the original text: scored pieces as coloured boxes, plain text between them.

    Each segment starts on a line of its own, after its name (``question:``, ``premise:``...) when
    the explanation names its segments.
    """
    line_height = 2.0 * _TEXT_SIZE
    limit = canvas.width_chars
    names = explanation.segment_names
    for number, segment in enumerate(pieces(explanation, level)):
        canvas.y += line_height
        column = 0
        if number < len(names):
            label = f"{visible(names[number])}:"
            canvas.text(_MARGIN, label, _TEXT_SIZE, color="#666666", fontstyle="italic", gid=f"segment-{index}-{number}")
            column = _display_width(label) + 1
        for piece in segment:
            runs = [visible(piece.text)] if piece.span is not None else _plain_runs(visible(piece.text))
            for run in runs:
                if run == "\n":
                    canvas.y += line_height
                    column = 0
                    continue
                width = _display_width(run)
                if column and column + width > limit and (piece.span is not None or not run.isspace()):
                    canvas.y += line_height
                    column = 0
                if not column and run.isspace() and piece.span is None:
                    continue
                x = _MARGIN + column * canvas.cell
                if piece.span is not None:
                    shade = scale.shade(piece.span.score)
                    canvas.ops.append(
                        (
                            "rect",
                            dict(
                                x=x - 1.5,
                                y=canvas.y - 0.75 * _TEXT_SIZE,
                                width=width * canvas.cell + 3.0,
                                height=1.5 * _TEXT_SIZE,
                                facecolor=shade.background,
                                edgecolor=SATURATION_MARK if shade.saturated else "none",
                                linewidth=1.5 if shade.saturated else 0.0,
                                gid=f"span-{index}-{piece.index}",
                            ),
                        )
                    )
                    if is_marked(explanation, piece):  # the token or answer the explained output is about: underlined
                        bar = dict(x=x - 1.5, y=canvas.y + 0.8 * _TEXT_SIZE, width=width * canvas.cell + 3.0, height=2.0)
                        canvas.ops.append(("rect", {**bar, "facecolor": "#111111", "edgecolor": "none", "linewidth": 0.0}))
                    canvas.text(x, run, _TEXT_SIZE, color=shade.foreground)
                else:
                    canvas.text(x, run, _TEXT_SIZE, color="#1a1a1a")
                column += width + (1 if piece.synthetic else 0)


def _plain_runs(text: str) -> list[str]:
    """Split plain text into newlines, runs of other whitespace and runs of non-space."""
    return re.findall(r"\n|[^\S\n]+|\S+", text)


def _replay(canvas: _Canvas) -> Figure:
    width = canvas.right + _MARGIN
    height = canvas.y + _MARGIN
    fig = _figure(width / 72.0, height / 72.0)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    from matplotlib.patches import Rectangle

    for kind, stored in canvas.ops:
        op = dict(stored)
        if kind == "rect":
            ax.add_patch(Rectangle((op.pop("x"), op.pop("y")), op.pop("width"), op.pop("height"), **op))
        elif kind == "bar":
            ramp = [[diverging_rgb(2.0 * i / 255 - 1.0) for i in range(256)]]
            left, top = op["x"], op["y"]
            ax.imshow(ramp, extent=(left, left + op["width"], top + op["height"], top), aspect="auto", interpolation="nearest")
            ax.add_patch(Rectangle((left, top), op["width"], op["height"], fill=False, edgecolor="#888888", linewidth=0.8))
        else:
            ax.text(
                op.pop("x"),
                op.pop("y"),
                op.pop("s"),
                va="center",
                family=FONT,
                parse_math=False,
                **{"ha": "left", **op},
            )
    ax.set_xlim(0.0, width)
    ax.set_ylim(height, 0.0)
    return fig


def plot_heatmap(
    explanations: ExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    width_chars: int = 80,
) -> Figure:
    """A figure of one or many explanations as coloured word boxes, with header facts and legend.

    Options as in :func:`limelight.viz.render_html`; ``width_chars`` is where lines wrap. Each
    box has ``gid`` ``"span-<record>-<span index>"`` (an ``id`` in SVG output), each segment name
    (``Explanation.segment_names``, written before its segment) ``"segment-<record>-<segment>"``.
    """
    items = as_explanation_list(explanations)
    scales = color_scales(items, level, scale, percentile)
    canvas = _Canvas(width_chars)
    for index, (explanation, record_scale) in enumerate(zip(items, scales)):
        summary = summarize(explanation, level)
        for line in summary.lines():
            canvas.wrapped("   ".join(f"{name}: {visible(value)}" for name, value in line), _SMALL_SIZE, color="#333333")
        if summary.warning:
            canvas.wrapped("WARNING: " + summary.warning, _SMALL_SIZE, color="#8a3b00", fontweight="bold")
        _words(canvas, explanation, index, level, record_scale)
        canvas.y += _TEXT_SIZE
        if record_scale.per_text:
            canvas.legend(record_scale)
    if not scales[0].per_text:
        canvas.legend(scales[0])
    return _replay(canvas)


def save_image(
    path: str | Path,
    explanations: ExplanationsLike | ImageExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    width_chars: int = 80,
    dpi: float = 150.0,
) -> Path:
    """Write the heatmap of :func:`plot_heatmap` to ``path``; the format follows the suffix (.png, .svg, .pdf).

    Image explanations are drawn as :func:`limelight.viz.image.plot_images` draws them (blended overlays).
    """
    if is_image_explanations(explanations):
        return save_images(path, explanations, scale=scale, percentile=percentile, dpi=dpi)
    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise InvalidInputError(f"cannot tell the image format from {path.name!r}: use a .png, .svg or .pdf name")
    plot_heatmap(explanations, level, scale, percentile, width_chars).savefig(path, dpi=dpi)
    return path


def plot_top_words(
    explanation: Explanation,
    k: int = 10,
    level: Level = "word",
    percentile: float = DEFAULT_PERCENTILE,
) -> Figure:
    """Horizontal bars of the ``k`` most positive and ``k`` most negative words of one explanation.

    Bars use the heatmap palette on this explanation's own robust scale; the word sits on the
    zero line opposite its bar, the exact value at the bar's end.
    """
    if not isinstance(explanation, Explanation):
        raise InvalidInputError(f"plot_top_words takes one Explanation, got {type(explanation).__name__}")
    if k < 1:
        raise InvalidInputError(f"k must be at least 1, got {k}")
    spans = [s for s in spans_at(explanation, level) if not s.special]
    ranked = sorted(spans, key=lambda s: s.score, reverse=True)
    chosen = [s for s in ranked[:k] if s.score > 0] + [s for s in ranked[::-1][:k] if s.score < 0][::-1]
    [scale] = choose_scales([[s.score for s in spans]], "shared", percentile)
    rows = max(1, len(chosen))
    fig = _figure(7.0, 1.2 + 0.32 * rows, layout="constrained")
    ax = fig.add_subplot()
    extent = max((abs(s.score) for s in chosen), default=1.0) or 1.0
    for row, span in enumerate(chosen):
        shade = scale.shade(span.score)
        ax.barh(row, span.score, color=shade.background, edgecolor=SATURATION_MARK if shade.saturated else "none")
        side = -1.0 if span.score > 0 else 1.0
        ax.text(
            side * 0.02 * extent,
            row,
            visible(span.text),
            ha="right" if side < 0 else "left",
            va="center",
            family=FONT,
            fontsize=10,
            parse_math=False,
        )
        ax.text(
            span.score - side * 0.02 * extent,
            row,
            format_score(span.score),
            ha="left" if side < 0 else "right",
            va="center",
            family=FONT,
            fontsize=8,
            color="#333333",
        )
    ax.axvline(0.0, color="#555555", linewidth=0.8)
    ax.set_xlim(-1.6 * extent, 1.6 * extent)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_yticks([])
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    summary = summarize(explanation, level)
    ax.set_xlabel(f"attribution to {one_line(explanation.quantity)} (target {one_line(explanation.target_label)})", parse_math=False)
    ax.set_title(f"Top {level}s: {summary.prediction}; {one_line(explanation.method)}", fontsize=10, loc="left", parse_math=False)
    if not chosen:
        ax.text(0.0, 0.0, "all scores are zero", ha="center", va="center")
    return fig


def plot_convergence(
    steps: Sequence[int],
    deltas: Sequence[float],
    tolerance: float | None = None,
    title: str = "Completeness error against integration steps",
) -> Figure:
    """``|delta|`` against the number of steps on log axes, with the tolerance as a dashed line.

    ``tolerance`` is an absolute bound on ``|delta|`` (for an explanation, its relative tolerance
    times ``|f(x) - f(baseline)|``). Points above it are drawn in orange, the rest in blue.
    """
    steps_list, deltas_list = [int(s) for s in steps], [float(d) for d in deltas]
    if not steps_list or len(steps_list) != len(deltas_list):
        raise InvalidInputError(f"steps and deltas must be non-empty and of equal length, got {len(steps_list)} and {len(deltas_list)}")
    if min(steps_list) < 1 or not all(math.isfinite(d) for d in deltas_list):
        raise InvalidInputError("steps must be positive integers and deltas finite numbers")
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance > 0):
        raise InvalidInputError(f"tolerance must be a positive number or None, got {tolerance!r}")
    errors = [abs(d) for d in deltas_list]
    fig = _figure(6.0, 4.0, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(steps_list, errors, color="#777777", linewidth=1.0, zorder=1)
    above = [tolerance is not None and e > tolerance for e in errors]
    colors = [POSITIVE_EXTREME if a else NEGATIVE_EXTREME for a in above]
    ax.scatter(steps_list, errors, c=colors, zorder=2, edgecolors="black", linewidths=0.5)
    ax.set_xscale("log")
    if len(set(steps_list)) <= 12:
        ax.set_xticks(sorted(set(steps_list)), [str(s) for s in sorted(set(steps_list))])
        ax.minorticks_off()
    positive = [e for e in errors if e > 0] + ([tolerance] if tolerance else [])
    if positive and min(errors) > 0:
        ax.set_yscale("log")
    elif positive:
        ax.set_yscale("symlog", linthresh=min(positive))
    if tolerance is not None:
        ax.axhline(tolerance, linestyle="--", color="#333333", linewidth=1.0, label=f"tolerance {tolerance:.3g}")
        ax.legend(loc="upper right")
    ax.set_xlabel("integration steps")
    ax.set_ylabel("|delta| (sum of scores minus change of output)")
    ax.set_title(title, fontsize=10, parse_math=False)
    ax.grid(True, which="major", alpha=0.3)
    return fig
