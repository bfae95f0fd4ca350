"""Terminal view: coloured words, header facts, warnings, and inert user text."""

from __future__ import annotations

import io

from rich.console import Console

from limelight.viz import POSITIVE_EXTREME, print_terminal, render_terminal
from limelight.viz.colors import from_hex
from tests.viz.builders import AMAZING, TERRIBLE, WORD, make_explanation


def _console() -> Console:
    return Console(file=io.StringIO(), width=200, color_system="truecolor", force_terminal=True, record=True)


def _ansi_background(color: str) -> str:
    r, g, b = (round(v * 255) for v in from_hex(color))
    return f"48;2;{r};{g};{b}"


def test_words_are_coloured_on_the_shared_scale(minimal_pair):
    console = _console()
    print_terminal(minimal_pair, console=console)
    ansi = console.file.getvalue()
    plain = console.export_text()
    assert AMAZING in plain and TERRIBLE in plain
    # 'amazing' is saturated: the extreme orange, bold and underlined (SGR 1 and 4)
    assert f"1;4;38;2;255;255;255;{_ansi_background(POSITIVE_EXTREME)}mamazing" in ansi
    assert plain.count("shared scale") == 1


def test_header_shows_facts_and_a_warning_only_when_not_converged(minimal_pair):
    console = _console()
    console.print(render_terminal(minimal_pair))
    lines = console.export_text().splitlines()
    headers = [i for i, line in enumerate(lines) if line.startswith("prediction:")]
    assert len(headers) == 2
    first = lines[headers[0]] + lines[headers[0] + 1]
    for fact in ("target:", "explains: logit", "method: integrated_gradients", "delta: +1e-05"):
        assert fact in first
    assert "negative (p = 1 - 0.0001)" in lines[headers[1]] and "positive (p = 0.0001)" in lines[headers[1]]
    warnings = [i for i, line in enumerate(lines) if "not converged" in line]
    assert len(warnings) == 1 and warnings[0] > headers[1]


def test_per_text_scale_is_labelled_per_record(minimal_pair):
    console = _console()
    print_terminal(minimal_pair, scale="per_text", console=console)
    assert console.export_text().count("NOT comparable") == 2


def test_user_text_cannot_restyle_or_move_the_terminal():
    text = "clear\x1b[2J [bold red]x[/] :smile:"
    hostile = make_explanation(text, [0.5] * len(WORD.findall(text)), predicted_label="[blink]pos[/blink]")
    console = _console()
    print_terminal(hostile, console=console)
    ansi, plain = console.file.getvalue(), console.export_text()
    assert "\x1b[2J" not in ansi and "\\x1b[2J" in plain
    assert "[bold red]x[/]" in plain and ":smile:" in plain and all(ord(c) < 0x1F000 for c in plain)  # no emoji
    assert "[blink]pos[/blink]" in plain and "\x1b[5m" not in ansi
