"""Views of image explanations: overlays, a grid of images x methods, PNG/SVG figures and HTML.

Every view draws scores with the text views' palette (:mod:`limelight.viz.colors`): signed scores
on the diverging blue-white-orange ramp, symmetric around zero, or absolute scores on its white to
orange half. By default one robust scale (the 99th percentile of ``|score|``) is shared by
everything shown together, so colours compare across images and methods; ``scale="per_image"``
gives each image its own scale and says so in its caption; a number fixes the limit. Pixels
beyond the scale are drawn at the extreme colour and outlined in black (saturated). Every figure
and page carries a numeric colour bar, and every panel names the prediction, the target, the
method and the delta, with a warning when the delta is above tolerance.

Overlays (``kind``): ``"heatmap"`` (the scores alone), ``"blend"`` (the heat map over a grey
copy of the image), ``"masked"`` (only the top ``top_percent`` of pixels kept), ``"alpha"``
(the image faded by ``|score|``) and ``"contour"`` (the outline of the top segments, for
explanations with segments). Overlays are drawn on the original image (``space="image"``,
``image_scores``) or on the model's input (``space="input"``, ``scores``); contours are drawn on
the input, where the segments are.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from typing_extensions import TypedDict, TypeIs, Unpack

from limelight.errors import InvalidInputError, MissingDependencyError
from limelight.vision.explanation import ImageExplanation
from limelight.viz.colors import DEFAULT_PERCENTILE, SATURATION_MARK, ColorScale, choose_scales, diverging_rgb, from_hex
from limelight.viz.html import Markup, document, fragment, tag
from limelight.viz.records import format_score, one_line

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KINDS = ("heatmap", "blend", "masked", "alpha", "contour")
SPACES = ("image", "input")
ImageExplanationsLike = ImageExplanation | Iterable[ImageExplanation]

_RAMP = np.array([diverging_rgb(2.0 * i / 510 - 1.0) for i in range(511)])
"""The palette sampled at 511 positions from -1 to +1 (index 255 is zero, white)."""
_BLEND_ALPHA = 0.65
_IMAGE_CSS = """
.limelight .ll-grid{border-collapse:collapse}
.limelight .ll-grid td{vertical-align:top;padding:4px 8px;font-size:12px;line-height:1.4;max-width:260px;white-space:normal}
.limelight .ll-grid img{image-rendering:pixelated;display:block;margin-bottom:3px}
""".strip()


def as_image_list(explanations: ImageExplanationsLike) -> list[ImageExplanation]:
    """Accept one image explanation or an iterable of them; reject anything else and empty input."""
    items = [explanations] if isinstance(explanations, ImageExplanation) else list(explanations)
    if not items:
        raise InvalidInputError("nothing to show: pass at least one ImageExplanation")
    wrong = sorted({type(item).__name__ for item in items if not isinstance(item, ImageExplanation)})
    if wrong:
        raise InvalidInputError(f"image views take ImageExplanation objects, got {', '.join(wrong)}")
    return items


def is_image_explanations(explanations: object) -> TypeIs[ImageExplanationsLike]:
    """Whether ``explanations`` is an image explanation or a non-empty collection of only those (to dispatch views on)."""
    if isinstance(explanations, ImageExplanation):
        return True
    return isinstance(explanations, Sequence) and bool(explanations) and all(isinstance(e, ImageExplanation) for e in explanations)


def shown_scores(explanation: ImageExplanation, space: str, kind: str = "blend") -> np.ndarray:
    """The score map a view draws: ``image_scores`` on the image, ``scores`` on the input (always for contours)."""
    if space not in SPACES:
        raise InvalidInputError(f"space must be one of {SPACES}, got {space!r}")
    chosen = explanation.scores if space == "input" or kind == "contour" else explanation.image_scores
    return chosen.detach().double().numpy()


def image_scales(
    explanations: ImageExplanationsLike,
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    space: str = "image",
    signed: bool = True,
) -> list[ColorScale]:
    """One colour scale per explanation: shared (default), ``"per_image"`` (labelled so), or a fixed limit."""
    items = as_image_list(explanations)
    groups = [(s if signed else np.abs(s)).ravel().tolist() for s in (shown_scores(e, space) for e in items)]
    if scale == "per_image":
        return [
            ColorScale(
                s.limit,
                f"per-image scale ±{s.limit:.3g} ({percentile:g}th percentile of this image's |score|); colours are NOT comparable across images",
                per_text=True,
            )
            for s in choose_scales(groups, "per_text", percentile)
        ]
    if scale == "per_text":
        raise InvalidInputError("images use scale='per_image' (not 'per_text'), 'shared' or a positive number")
    scales = choose_scales(groups, scale, percentile)
    return [ColorScale(s.limit, s.description.replace("texts", "images"), s.per_text) for s in scales]


def colorize(scores: np.ndarray, scale: ColorScale, signed: bool = True) -> np.ndarray:
    """Scores ``(H, W)`` as RGB ``(H, W, 3)`` in ``[0, 1]``: the palette's extreme at ``±limit`` and beyond."""
    if scale.limit <= 0:
        return np.ones((*scores.shape, 3))
    position = np.clip(scores / scale.limit, -1.0, 1.0) if signed else np.clip(np.abs(scores) / scale.limit, 0.0, 1.0)
    return _RAMP[np.rint((position + 1.0) * 255).astype(int)]


def boundaries(mask: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` next to a pixel outside it (4-neighbourhood): the outline of its regions."""
    padded = np.pad(mask, 1, constant_values=False)
    inside = padded[1:-1, 1:-1]
    neighbours = [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
    return inside & ~np.logical_and.reduce(neighbours)


def _top_pixels(scores: np.ndarray, percent: float, signed: bool) -> np.ndarray:
    ranked = scores if signed else np.abs(scores)
    count = max(1, math.ceil(ranked.size * percent / 100.0))
    threshold = np.sort(ranked.ravel())[-count]
    return ranked >= threshold


def overlay(
    explanation: ImageExplanation,
    kind: str = "blend",
    scale: ColorScale | None = None,
    *,
    signed: bool = True,
    space: str = "image",
    top_percent: float = 10.0,
    top_segments: int = 3,
    mark_saturated: bool = True,
) -> np.ndarray:
    """One explanation drawn as an RGB array ``(H, W, 3)`` in ``[0, 1]`` (see the module's overlay kinds)."""
    if kind not in KINDS:
        raise InvalidInputError(f"kind must be one of {KINDS}, got {kind!r}")
    if not 0 < top_percent <= 100:
        raise InvalidInputError(f"top_percent must be in (0, 100], got {top_percent!r}")
    scores = shown_scores(explanation, space, kind)
    scale = scale or image_scales([explanation], space=space, signed=signed)[0]
    picture = (explanation.input_image if space == "input" or kind == "contour" else explanation.image).detach().double().numpy()
    picture = np.repeat(picture, 3, 0) if picture.shape[0] == 1 else picture[:3]
    picture = picture.transpose(1, 2, 0)
    heat = colorize(scores, scale, signed)
    grey = np.repeat(picture.mean(2, keepdims=True), 3, 2)
    if kind == "heatmap":
        drawn = heat
    elif kind == "blend":
        drawn = _BLEND_ALPHA * heat + (1 - _BLEND_ALPHA) * grey
    elif kind == "masked":
        drawn = np.where(_top_pixels(scores, top_percent, signed)[..., None], picture, 0.15 * grey)
    elif kind == "alpha":
        weight = np.clip(np.abs(scores) / scale.limit, 0, 1)[..., None] if scale.limit > 0 else np.zeros((*scores.shape, 1))
        drawn = weight * picture + (1 - weight) * 1.0
    else:
        drawn = _contours(explanation, picture, top_segments, signed)
    if mark_saturated and kind in ("heatmap", "blend") and scale.limit > 0:
        drawn = np.where(boundaries(np.abs(scores) > scale.limit)[..., None], np.array(from_hex(SATURATION_MARK)), drawn)
    return np.clip(drawn, 0.0, 1.0)


def _contours(explanation: ImageExplanation, picture: np.ndarray, top: int, signed: bool) -> np.ndarray:
    if explanation.segments is None or explanation.segment_scores is None:
        raise InvalidInputError("kind='contour' outlines segments: explain with features='slic', 'patches' or a mask")
    values = np.array(explanation.segment_scores)
    order = np.argsort(-(values if signed else np.abs(values)))[:top]
    segments = explanation.segments.numpy()
    outline = boundaries(np.isin(segments, order))
    return np.where(outline[..., None], np.array(diverging_rgb(1.0)), picture)


@dataclass(frozen=True)
class Caption:
    """What a panel says about its explanation, as plain lines (views escape them)."""

    lines: list[str]
    warning: str | None


def caption(explanation: ImageExplanation, scale: ColorScale) -> Caption:
    """Prediction, target, method, delta (and the scale, when it is the image's own)."""
    contrast = explanation.contrast_label
    target = one_line(explanation.target_label) + ("" if contrast is None else f" vs {one_line(contrast)}")
    lines = [
        one_line(explanation.name),
        f"predicted: {one_line(explanation.predicted_label)} ({explanation.predicted_probability:.1%})",
        f"target: {target} ({explanation.quantity})",
        f"method: {explanation.method}" + ("" if explanation.baseline == "none" else f", baseline {one_line(explanation.baseline)}"),
    ]
    warning = None
    if explanation.delta is not None:
        bound = explanation.delta_bound
        lines.append(f"delta: {format_score(explanation.delta)}" + ("" if bound is None else f" (tolerance {bound:.2g})"))
        if explanation.converged is False:
            warning = (
                f"|delta| {abs(explanation.delta):.3g} is above the tolerance {bound:.3g}: the scores do not add up to the output's change"
            )
    if scale.per_text:
        lines.append(f"own scale ±{scale.limit:.3g}")
    return Caption(lines, warning)


class ViewKwargs(TypedDict, total=False):
    """The options every image view takes (see the module's description): how scores are scaled and drawn."""

    scale: str | float
    percentile: float
    signed: bool
    space: str
    top_percent: float
    top_segments: int


@dataclass(frozen=True)
class Panel:
    """One drawn explanation: its place in the grid, its colour scale, its pixels and its caption."""

    index: int
    row: int
    column: int
    scale: ColorScale
    pixels: np.ndarray
    caption: Caption


@dataclass(frozen=True)
class Grid:
    """Rows (image names) by columns (methods), in order of appearance, and the panels in them."""

    rows: list[str]
    columns: list[str]
    panels: list[Panel]
    scales: list[ColorScale]

    @property
    def per_image(self) -> bool:
        return self.scales[0].per_text


def layout(explanations: ImageExplanationsLike, kind: str = "blend", **options: Unpack[ViewKwargs]) -> Grid:
    """Every explanation drawn and placed: one row per image name, one column per method."""
    items = as_image_list(explanations)
    space, signed = options.get("space", "image"), options.get("signed", True)
    scales = image_scales(items, options.get("scale", "shared"), options.get("percentile", DEFAULT_PERCENTILE), space, signed)
    rows = list(dict.fromkeys(e.name for e in items))
    columns = list(dict.fromkeys(e.method for e in items))
    seen: set[tuple[str, str]] = set()
    panels = []
    for index, (explanation, own) in enumerate(zip(items, scales)):
        column = explanation.method
        if (explanation.name, column) in seen:  # the same image and method twice: a column of its own
            column = f"{explanation.method} #{index}"
            columns.append(column)
        seen.add((explanation.name, column))
        drawn = overlay(
            explanation,
            kind,
            own,
            signed=signed,
            space=space,
            top_percent=options.get("top_percent", 10.0),
            top_segments=options.get("top_segments", 3),
        )
        panels.append(Panel(index, rows.index(explanation.name), columns.index(column), own, drawn, caption(explanation, own)))
    return Grid(rows, columns, panels, scales)


def plot_images(explanations: ImageExplanationsLike, kind: str = "blend", **options: Unpack[ViewKwargs]) -> Figure:
    """A figure: one row per image, one column per method, each panel captioned, with a numeric colour bar."""
    grid = layout(explanations, kind, **options)
    try:
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("image figures need matplotlib: pip install 'limelight[plot]'") from error
    aspect = max(p.pixels.shape[0] / p.pixels.shape[1] for p in grid.panels)
    height = 3.0 * aspect + 1.2 + (0.6 if grid.per_image else 0.0)
    figure = Figure(figsize=(3.2 * len(grid.columns), height * len(grid.rows) + 0.9), facecolor="white", layout="constrained")
    axes = figure.subplots(len(grid.rows), len(grid.columns), squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    signed = options.get("signed", True)
    for panel in grid.panels:
        ax = axes[panel.row][panel.column]
        ax.imshow(panel.pixels, interpolation="nearest").set_gid(f"panel-{panel.index}")
        ax.set_title("\n".join(panel.caption.lines), fontsize=7.5, loc="left", parse_math=False)
        if panel.caption.warning:
            warning = textwrap.fill("WARNING: " + panel.caption.warning, 48)
            ax.text(0.0, -0.02, warning, transform=ax.transAxes, va="top", fontsize=7, color="#8a3b00", parse_math=False)
        if grid.per_image:
            _colorbar(figure, [ax], panel.scale, signed)
    if not grid.per_image:
        _colorbar(figure, list(axes.ravel()), grid.scales[0], signed, len(grid.columns))
    return figure


def _colorbar(figure: Figure, axes: list[Any], scale: ColorScale, signed: bool, columns: int = 1) -> None:
    """A numeric colour bar under ``axes``, its label wrapped to the width of ``columns`` panels."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize
    from matplotlib.ticker import MaxNLocator

    limit = scale.limit or 1.0
    colours = _RAMP if signed else _RAMP[255:]
    mappable = ScalarMappable(Normalize(-limit if signed else 0.0, limit), ListedColormap(colours))
    bar = figure.colorbar(mappable, ax=axes, orientation="horizontal", shrink=0.8, aspect=40, pad=0.02)
    label = "this image's own scale" if scale.per_text else scale.description
    wide = columns * 50
    bar.set_label(textwrap.fill(label + "; black outlines: saturated (beyond the scale)", wide), fontsize=7, parse_math=False)
    bar.ax.xaxis.set_major_locator(MaxNLocator(9 if columns > 2 else 5, symmetric=signed))
    bar.ax.tick_params(labelsize=7)


def save_images(path: str | Path, explanations: ImageExplanationsLike, kind: str = "blend", *, dpi: float = 150.0, **options: Any) -> Path:
    """Write :func:`plot_images` to ``path``; the format follows the suffix (.png, .svg, .pdf)."""
    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise InvalidInputError(f"cannot tell the image format from {path.name!r}: use a .png, .svg or .pdf name")
    plot_images(explanations, kind, **options).savefig(path, dpi=dpi)
    return path


def png_data_uri(rgb: np.ndarray) -> str:
    """An RGB array ``(H, W, 3)`` in ``[0, 1]`` as a ``data:image/png`` URI (embedded, nothing to load)."""
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("embedding images in HTML needs Pillow: pip install 'limelight[vision]'") from error
    buffer = io.BytesIO()
    Image.fromarray(np.rint(rgb * 255).astype(np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _html_legend(scale: ColorScale, signed: bool) -> Markup:
    ramp = (_RAMP if signed else _RAMP[255:])[None].repeat(12, 0)
    ticks = scale.ticks() if signed else [scale.limit * i / 4 for i in range(5)]
    return tag(
        "div",
        tag("div", scale.description),
        tag(
            "img",
            src=png_data_uri(ramp),
            width="320",
            height="12",
            alt=f"colour bar from {ticks[0]:.3g} to {ticks[-1]:.3g}",
            class_="ll-bar",
        ),
        tag("div", *[tag("span", format_score(t) if t else "0") for t in ticks], class_="ll-ticks", style="width:322px"),
        tag("div", "Black outlines mark saturated pixels: their |score| is beyond the scale."),
        class_="ll-legend",
    )


def image_body(explanations: ImageExplanationsLike, kind: str = "blend", *, width: int = 224, **options: Unpack[ViewKwargs]) -> Markup:
    """The grid of images x methods as HTML: embedded PNG panels ``width`` pixels wide, escaped captions, colour bar(s)."""
    grid = layout(explanations, kind, **options)
    signed = options.get("signed", True)
    cells: dict[tuple[int, int], Markup] = {}
    for panel in grid.panels:
        parts: list[object] = [tag("img", src=png_data_uri(panel.pixels), width=str(width), alt=f"{kind} of {panel.caption.lines[0]}")]
        parts += [tag("div", line) for line in panel.caption.lines]
        if panel.caption.warning:
            parts.append(tag("div", "\N{WARNING SIGN} " + panel.caption.warning, class_="ll-warning", role="alert"))
        if grid.per_image:
            parts.append(_html_legend(panel.scale, signed))
        cells[(panel.row, panel.column)] = tag("td", *parts, data_index=panel.index)
    header = tag("tr", *[tag("td", tag("strong", column)) for column in grid.columns])
    body = [tag("tr", *[cells.get((r, c), tag("td")) for c in range(len(grid.columns))]) for r in range(len(grid.rows))]
    legend = [] if grid.per_image else [_html_legend(grid.scales[0], signed)]
    return Markup("".join([*legend, tag("style", Markup(_IMAGE_CSS)), tag("table", tag("tbody", header, *body), class_="ll-grid")]))


def render_image_html(explanations: ImageExplanationsLike, kind: str = "blend", **options: Any) -> str:
    """An HTML fragment (for Jupyter) of the image grid, with its stylesheet."""
    return fragment(image_body(explanations, kind, **options))


def save_image_html(
    path: str | Path,
    explanations: ImageExplanationsLike,
    kind: str = "blend",
    *,
    title: str = "limelight image explanations",
    **options: Any,
) -> Path:
    """Write a self-contained HTML file (images embedded, works offline) and return its path."""
    path = Path(path)
    path.write_text(document(image_body(explanations, kind, **options), title), encoding="utf-8")
    return path
