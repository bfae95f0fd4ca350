"""Terminal view (rich): coloured words under a header line, for the CLI.

User text only ever enters ``rich.text.Text`` as plain strings (never console markup), and
control characters are written visibly, so a text cannot restyle or move the terminal.
Saturated words are bold and underlined.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.style import Style
from rich.text import Text

from limelight.text.explanation import Explanation
from limelight.viz.colors import DEFAULT_PERCENTILE, ColorScale, diverging_rgb, to_hex
from limelight.viz.records import (
    ExplanationsLike,
    Level,
    as_explanation_list,
    color_scales,
    is_marked,
    pieces,
    summarize,
    visible,
)

_BAR_CELLS = 21
_WARNING_STYLE = Style(bold=True, color="black", bgcolor="yellow")


def legend_text(scale: ColorScale) -> Text:
    """The scale's description and a colour bar from ``-limit`` to ``+limit``."""
    text = Text(scale.description + "\n", style="dim")
    text.append(f"{-scale.limit:+.3g} ")
    for i in range(_BAR_CELLS):
        text.append(" ", Style(bgcolor=to_hex(diverging_rgb(2.0 * i / (_BAR_CELLS - 1) - 1.0))))
    text.append(f" {scale.limit:+.3g}   ")
    text.append("bold underlined", Style(bold=True, underline=True))
    text.append(" = saturated (beyond the scale)", style="dim")
    return text


def _record(explanation: Explanation, level: Level, scale: ColorScale) -> list[Text]:
    summary = summarize(explanation, level)
    lines = []
    for line in summary.lines():
        header = Text()
        for name, value in line:
            header.append(f"{name}: ", Style(bold=True))
            header.append(visible(value) + "   ", Style(color="green") if name == "delta" and summary.converged else None)
        lines.append(header)
    if summary.warning:
        lines.append(Text("\N{WARNING SIGN} " + summary.warning, _WARNING_STYLE))
    names = explanation.segment_names
    for number, segment in enumerate(pieces(explanation, level)):
        body = Text(f"{visible(names[number])}: ", style="dim") if number < len(names) else Text()
        for piece in segment:
            if piece.span is None:
                body.append(visible(piece.text))
                continue
            shade = scale.shade(piece.span.score)
            marked = is_marked(explanation, piece)  # the explained token or answer: bold and overlined
            body.append(
                visible(piece.text),
                Style(
                    color=shade.foreground,
                    bgcolor=shade.background,
                    bold=shade.saturated or marked,
                    underline=shade.saturated,
                    overline=marked,
                ),
            )
        lines.append(body)
    return lines


def render_terminal(
    explanations: ExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
) -> Group:
    """A rich renderable of one or many explanations; options as in :func:`limelight.viz.render_html`."""
    items = as_explanation_list(explanations)
    scales = color_scales(items, level, scale, percentile)
    parts: list[Text] = []
    for explanation, record_scale in zip(items, scales):
        parts.extend(_record(explanation, level, record_scale))
        if record_scale.per_text:
            parts.append(legend_text(record_scale))
        parts.append(Text())
    if not scales[0].per_text:
        parts.append(legend_text(scales[0]))
    return Group(*parts)


def print_terminal(
    explanations: ExplanationsLike,
    level: Level = "word",
    scale: str | float = "shared",
    percentile: float = DEFAULT_PERCENTILE,
    console: Console | None = None,
) -> None:
    """Print explanations as coloured words to ``console`` (default: a new stdout console)."""
    (console or Console()).print(render_terminal(explanations, level, scale, percentile))
