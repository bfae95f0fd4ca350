"""Align several word sequences into shared columns, for side-by-side comparison.

Each sequence is aligned to the first one (the reference) with :class:`difflib.SequenceMatcher`;
words inserted relative to the reference get columns of their own. A minimal pair such as
"one of those amazing movies" / "one of those terrible movies" lines up word for word, and
one text explained by several methods lines up trivially.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from difflib import SequenceMatcher


def align(sequences: Sequence[Sequence[Hashable]]) -> list[list[int | None]]:
    """Rows of equal length, one per sequence: column ``c`` of row ``r`` is an index into
    ``sequences[r]`` or ``None`` (a gap). Every index of every sequence appears once, in order.
    """
    if not sequences:
        return []
    reference = list(sequences[0])
    placements = [_place(reference, list(other)) for other in sequences[1:]]
    rows: list[list[int | None]] = [[] for _ in sequences]
    for gap in range(len(reference) + 1):
        width = max((len(inserts[gap]) for _, inserts in placements), default=0)
        rows[0].extend([None] * width)
        for row, (_, inserts) in zip(rows[1:], placements):
            row.extend(inserts[gap] + [None] * (width - len(inserts[gap])))
        if gap < len(reference):
            rows[0].append(gap)
            for row, (mapped, _) in zip(rows[1:], placements):
                row.append(mapped[gap])
    return rows


def _place(reference: list[Hashable], other: list[Hashable]) -> tuple[list[int | None], list[list[int | None]]]:
    """For each reference word, the matching index in ``other`` (or None); and for each gap
    before reference word ``g`` (``g == len(reference)``: the end), the indices inserted there."""
    mapped: list[int | None] = [None] * len(reference)
    inserts: list[list[int | None]] = [[] for _ in range(len(reference) + 1)]
    matcher = SequenceMatcher(None, reference, other, autojunk=False)
    for _, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1)
        for k in range(paired):
            mapped[i1 + k] = j1 + k
        inserts[i1 + paired].extend(range(j1 + paired, j2))
    return mapped, inserts
