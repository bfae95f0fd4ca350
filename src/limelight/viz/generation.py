"""Views of generation explanations: the matrix of generated tokens x prompt features.

- HTML (:func:`render_generation_html`, :func:`save_generation_html`): the matrix as a table of
  coloured cells, and the prompt with its features coloured by one row: the sequence scores by
  default; hovering or selecting a generated token (a radio button, so it works without scripts)
  colours the prompt by that token's row. Self-contained (no scripts, no links); every byte of
  prompt, token and feature text is escaped.
- Terminal (:func:`render_generation_terminal`): the prompt coloured by the sequence scores, then
  the top features of each generated token.
- Images (:func:`plot_generation`, :func:`save_generation_image`): the heatmap with matplotlib.

All views use limelight's diverging palette on one scale shared by every row (the sequence row
included), so colours compare across generated tokens. With ``attribute_generated=True`` the
matrix gets the generated tokens as extra columns after the prompt features, masked (grey, no
score) on and above the diagonal: a token is explained only by the tokens before it.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.style import Style
from rich.text import Text

from limelight.errors import InvalidInputError
from limelight.generation.explanation import GenerationExplanation
from limelight.viz.colors import DEFAULT_PERCENTILE, ColorScale, choose_scales, diverging_rgb, to_hex
from limelight.viz.html import Markup, document, escape, fragment, legend, tag
from limelight.viz.records import exact_score, format_score, visible

_STYLE = """
.limelight .ll-gen-tokens label{cursor:pointer;border:1px solid #999;border-radius:3px;padding:1px 4px;margin:0 2px;
 font-family:ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre}
.limelight .ll-gen input{position:absolute;opacity:0;width:1px;height:1px}
.limelight .ll-gen-matrix td{min-width:26px;height:20px;font-size:10px;padding:0 3px;font-variant-numeric:tabular-nums}
.limelight .ll-gen-matrix th{font-family:ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre;font-size:11px}
.limelight .ll-gen-matrix thead th{writing-mode:vertical-rl;transform:rotate(180deg);max-height:140px}
.limelight .ll-gen-matrix td.ll-masked{background:repeating-linear-gradient(45deg,#eee,#eee 3px,#ddd 3px,#ddd 6px)}
"""


def _scale(explanation: GenerationExplanation, scale: str | float, percentile: float) -> ColorScale:
    rows = explanation.matrix.tolist() + [explanation.sequence_scores.tolist()]
    generated = [s for row in _generated_rows(explanation) for s in row if s is not None]
    if scale == "per_text":
        raise InvalidInputError("a generation view has one shared scale for all its rows; use scale='shared' or a number")
    return choose_scales([[s for row in rows for s in row] + generated], scale, percentile)[0]


def _generated_rows(explanation: GenerationExplanation) -> list[list[float | None]]:
    """Per row of :func:`_rows`, the scores of the generated-token columns (``None`` where masked; no columns without them)."""
    matrix = explanation.generated_matrix
    if matrix is None:
        return [[] for _ in range(len(explanation.generated) + 1)]
    rows: list[list[float | None]] = [list(matrix.sum(0).tolist())]
    for t, row in enumerate(matrix.tolist()):
        rows.append([score if u < t else None for u, score in enumerate(row)])
    return rows


def _rows(explanation: GenerationExplanation) -> list[tuple[str, list[float]]]:
    """``(label, scores)`` of the sequence row then each generated token's row."""
    label = "sequence" if explanation.contrast is None else f"sequence (vs {explanation.contrast!r})"
    return [(label, explanation.sequence_scores.tolist())] + [
        (visible(token), row) for token, row in zip(explanation.generated, explanation.matrix.tolist())
    ]


def _prompt(explanation: GenerationExplanation) -> Markup:
    """The prompt text with every feature in a span of its own (class ``ll-f<j>``)."""
    parts: list[object] = []
    cursor = 0
    for j, (text, (start, end)) in sorted(enumerate(explanation.features), key=lambda item: item[1][1][0]):
        parts.append(escape(visible(explanation.prompt[cursor:start])))
        parts.append(tag("span", visible(text), class_=f"ll-chip ll-f{j}", data_feature=j))
        cursor = end
    parts.append(escape(visible(explanation.prompt[cursor:])))
    return tag("div", *parts, class_="ll-text ll-gen-prompt")


def _css(key: str, explanation: GenerationExplanation, scale: ColorScale) -> str:
    """One rule per (row, feature): row ``i`` checked or hovered colours feature ``j``."""
    rules = []
    for i, (_, scores) in enumerate(_rows(explanation)):
        for j, score in enumerate(scores):
            shade = scale.shade(score)
            colours = f"background-color:{shade.background};color:{shade.foreground}"
            rules.append(f"#{key}-r{i}:checked~.ll-gen-prompt .ll-f{j}{{{colours}}}")
            rules.append(f".ll-gen:has(label[for={key}-r{i}]:hover) .ll-gen-prompt .ll-f{j}{{{colours} !important}}")
        rules.append(f"#{key}-r{i}:checked~.ll-gen-tokens label[for={key}-r{i}]{{outline:2px solid #111}}")
    return "\n".join(rules)


def _matrix(explanation: GenerationExplanation, scale: ColorScale, key: str) -> Markup:
    columns = [visible(text) for text, _ in explanation.features]
    titles = [f"{visible(text)} [{s}, {e})" for text, (s, e) in explanation.features]
    if explanation.generated_matrix is not None:
        columns += [visible(token) for token in explanation.generated]
        titles += [f"generated token #{u}: {visible(token)}" for u, token in enumerate(explanation.generated)]
    head = tag("tr", tag("th", ""), *(tag("th", text, title=title) for text, title in zip(columns, titles)))
    body = []
    for i, ((label, scores), generated) in enumerate(zip(_rows(explanation), _generated_rows(explanation))):
        cells = []
        for text, score in zip(columns, [*scores, *generated]):
            if score is None:
                cells.append(tag("td", "", class_="ll-masked", title=f"{label} <- {text}: not before this token"))
                continue
            shade = scale.shade(score)
            cells.append(
                tag(
                    "td",
                    format_score(score),
                    style=f"background-color:{shade.background};color:{shade.foreground}",
                    title=f"{label} <- {text}: {exact_score(score)}",
                )
            )
        body.append(tag("tr", tag("th", tag("label", label, for_=f"{key}-r{i}")), *cells))
    return tag("table", tag("thead", head), tag("tbody", *body), class_="ll-gen-matrix")


def _header(explanation: GenerationExplanation) -> Markup:
    delta = explanation.delta
    facts = [
        ("method", explanation.method),
        ("quantity", explanation.quantity + ("" if explanation.contrast is None else f" vs {explanation.contrast!r}")),
        ("features", f"{len(explanation.features)} {explanation.features_kind}"),
        ("continuation", visible(explanation.text)),
    ]
    if delta is not None:
        facts.append(("max |delta|", f"{float(delta.abs().max()):.3g}"))
    return tag("div", *(tag("span", tag("span", name, class_="ll-name"), value) for name, value in facts), class_="ll-header")


def _body(explanation: GenerationExplanation, scale: str | float, percentile: float) -> Markup:
    if not isinstance(explanation, GenerationExplanation):
        raise InvalidInputError(f"expected a GenerationExplanation, got {type(explanation).__name__}")
    colours = _scale(explanation, scale, percentile)
    key = "llg" + hashlib.sha256(explanation.to_json().encode()).hexdigest()[:10]
    radios = [
        Markup(f'<input type="radio" name="{key}" id="{key}-r{i}"' + (" checked" if i == 0 else "") + ">")
        for i in range(len(explanation.generated) + 1)
    ]
    labels = [
        tag("label", label, for_=f"{key}-r{i}", title="colour the prompt by this row") for i, (label, _) in enumerate(_rows(explanation))
    ]
    return tag(
        "div",
        tag("style", Markup(_STYLE + _css(key, explanation, colours))),
        _header(explanation),
        *radios,
        tag("div", "Generated: ", *labels, class_="ll-gen-tokens"),
        _prompt(explanation),
        _matrix(explanation, colours, key),
        legend(colours),
        class_="ll-record ll-gen",
    )


def render_generation_html(
    explanation: GenerationExplanation, scale: str | float = "shared", percentile: float = DEFAULT_PERCENTILE
) -> str:
    """An embeddable HTML fragment: the prompt coloured by a selectable row, the matrix and the legend."""
    return fragment(_body(explanation, scale, percentile))


def save_generation_html(
    path: str | Path, explanation: GenerationExplanation, scale: str | float = "shared", percentile: float = DEFAULT_PERCENTILE
) -> Path:
    """Write a complete, self-contained HTML page of :func:`render_generation_html` to ``path``."""
    path = Path(path)
    path.write_text(document(_body(explanation, scale, percentile), "limelight generation explanation"), encoding="utf-8")
    return path


def render_generation_terminal(explanation: GenerationExplanation, top: int = 3, width: int = 100) -> str:
    """The prompt coloured by the sequence scores, then each generated token's ``top`` features, as ANSI text."""
    colours = _scale(explanation, "shared", DEFAULT_PERCENTILE)
    prompt = Text()
    cursor = 0
    scores = explanation.sequence_scores.tolist()
    for j, (text, (start, end)) in sorted(enumerate(explanation.features), key=lambda item: item[1][1][0]):
        prompt.append(visible(explanation.prompt[cursor:start]))
        shade = colours.shade(scores[j])
        prompt.append(visible(text), Style(bgcolor=shade.background, color=shade.foreground, bold=shade.saturated))
        cursor = end
    prompt.append(visible(explanation.prompt[cursor:]))
    lines = [Text(f"{explanation.method} | {explanation.quantity} | {colours.description}", style="dim"), prompt]
    for token, row in zip(explanation.generated, explanation.matrix.tolist()):
        order = sorted(range(len(row)), key=lambda j: -row[j])[:top]
        line = Text(f"{visible(token)!r:>14} <- ")
        for j in order:
            shade = colours.shade(row[j])
            line.append(
                f" {visible(explanation.features[j][0])} {format_score(row[j])} ", Style(bgcolor=shade.background, color=shade.foreground)
            )
            line.append(" ")
        lines.append(line)
    console = Console(width=width, force_terminal=True, color_system="truecolor", record=True, file=io.StringIO())
    for line in lines:
        console.print(line)
    return console.export_text(styles=True)


def plot_generation(explanation: GenerationExplanation, scale: str | float = "shared", percentile: float = DEFAULT_PERCENTILE) -> Any:
    """A matplotlib figure: the heatmap of generated tokens (rows, the sequence row first) x prompt features (columns)."""
    try:
        from matplotlib.colors import ListedColormap
        from matplotlib.figure import Figure
    except ImportError as error:  # pragma: no cover - depends on the environment
        from limelight.errors import MissingDependencyError

        raise MissingDependencyError("image export needs matplotlib: pip install 'limelight[plot]'") from error
    colours = _scale(explanation, scale, percentile)
    rows = _rows(explanation)
    values = [
        [*scores, *(float("nan") if s is None else s for s in generated)]
        for (_, scores), generated in zip(rows, _generated_rows(explanation))
    ]
    palette = ListedColormap([to_hex(diverging_rgb(2.0 * i / 255 - 1.0)) for i in range(256)]).with_extremes(bad="#dddddd")  # masked cells
    labels = [visible(text) for text, _ in explanation.features]
    if explanation.generated_matrix is not None:
        labels += [visible(token) for token in explanation.generated]
    n_rows, n_cols = len(rows), len(labels)
    figure = Figure(figsize=(max(4.0, 0.42 * n_cols + 2.2), max(2.0, 0.32 * n_rows + 2.0)), facecolor="white", layout="constrained")
    axes = figure.add_subplot()
    limit = colours.limit or 1.0
    image = axes.imshow(values, cmap=palette, vmin=-limit, vmax=limit, aspect="auto")
    axes.set_xticks(range(n_cols), labels, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(n_rows), [label for label, _ in rows], fontsize=8)
    axes.axhline(0.5, color="#333333", linewidth=1.0)
    if explanation.generated_matrix is not None:
        axes.axvline(len(explanation.features) - 0.5, color="#333333", linewidth=1.0)
    title = f"{explanation.method}: {explanation.quantity}" + ("" if explanation.contrast is None else f" vs {explanation.contrast!r}")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.8, label=colours.description if len(colours.description) < 40 else "score")
    return figure


def save_generation_image(
    path: str | Path,
    explanation: GenerationExplanation,
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    dpi: float = 150.0,
) -> Path:
    """Write :func:`plot_generation`'s figure to ``path``; the format follows the suffix (.png, .svg, .pdf)."""
    path = Path(path)
    if path.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise InvalidInputError(f"cannot tell the image format from {path.name!r}: use a .png, .svg or .pdf name")
    plot_generation(explanation, scale, percentile).savefig(path, dpi=dpi)
    return path
