"""Explanations as plain lines, for ``limelight explain`` when standard output is not a terminal.

Colour carries the scores on a terminal; piped into a file or another program it is lost (and
rich wraps at 80 columns), so each record becomes its header lines and then one
``word<TAB>score`` line per word (or token), with control characters written visibly.
"""

from __future__ import annotations

from limelight.text.explanation import Explanations
from limelight.viz.records import Level, format_score, summarize, visible


def plain_lines(explanations: Explanations, level: Level) -> list[str]:
    """The lines :func:`print_plain` prints: per record, its header, its warning if any, its scored pieces, a blank line."""
    lines = []
    for explanation in explanations:
        summary = summarize(explanation, level)
        lines += ["   ".join(f"{name}: {visible(value)}" for name, value in line) for line in summary.lines()]
        if summary.warning:
            lines.append(f"warning: {summary.warning}")
        scored = explanation.words if level == "word" else explanation.tokens
        lines += [f"{_cell(piece)}\t{format_score(score)}" for piece, score in scored]
        lines.append("")
    return lines


def print_plain(explanations: Explanations, level: Level) -> None:
    """Print :func:`plain_lines` to standard output."""
    print("\n".join(plain_lines(explanations, level)))


def _cell(text: str) -> str:
    """A word as one tab-free line."""
    return visible(text).replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
