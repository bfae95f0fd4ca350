"""The fenced code blocks of the project's Markdown pages, and the rule that says how each is checked.

A block's kind comes from its info string: ``python`` runs (the blocks of one page in order, in
one namespace, in a temporary working directory); ``bash`` runs as a shell script there, with the
``limelight`` command of the running interpreter first on ``PATH``; ``console`` runs each ``$ ``
line the same way and checks that the lines shown after it appear in its output; ``text`` is
program output shown for reading, and is not run. Any other info string (or none) is an error:
a page must say what its block is.

An HTML comment on the line before the fence (invisible on the rendered page) changes that:

* ``<!-- doctest: skip REASON -->``: the block is not run (set-up commands that create
  environments or install packages, benchmarks that run for minutes); the reason is required
  and shows in pytest's skip report.
* ``<!-- doctest: raises NAME -->``: a ``python`` block must raise ``limelight.errors.NAME``
  (a page showing what limelight refuses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PAGES = ("README.md", *sorted(f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")), "benchmarks/README.md")
"""Every Markdown page whose blocks are checked, relative to the repository root: a new page in docs/ is checked too."""

KINDS = ("python", "bash", "console", "text")

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*doctest:\s*(?P<action>skip|raises)\b\s*(?P<argument>.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its kind, its body, and the marker before it (``action``, ``argument``)."""

    page: str
    line: int
    kind: str
    body: str
    action: str = ""
    argument: str = ""

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: str) -> list[Block]:
    """The fenced blocks of ``page`` (a path relative to the repository root), in order."""
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, info = opening.group("fence"), opening.group("info").strip()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
        marker = _MARKER.match(previous)
        found.append(
            Block(
                page=page,
                line=index + 1,
                kind=info.split()[0] if info else "",
                body="\n".join(lines[index + 1 : end]) + "\n",
                action=marker.group("action") if marker else "",
                argument=marker.group("argument") if marker else "",
            )
        )
        index = end + 1
    return found


def console_steps(block: Block) -> list[tuple[str, list[str]]]:
    """A ``console`` block as ``(command, lines shown after it)`` pairs."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps
