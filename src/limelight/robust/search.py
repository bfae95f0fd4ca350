"""The search for the first step of a grid at which each row's prediction flips, linear or binary.

Row ``r`` has steps ``0..n_steps[r]-1`` (an attack's strength ``arg_min + k * arg_step``, or the
number of top-attributed words deleted). ``probe(rows, steps)`` evaluates rows at their steps in
one batch and says which flipped, with a payload per row (the perturbed input, the new class).

* ``"linear"`` tries steps in order: the step found is the first that flips, so every smaller
  step was seen not to flip;
* ``"binary"`` bisects between a step seen not to flip (or "before the grid") and one seen to flip;
  it ends when they are neighbours, so the step below the one found was also seen not to flip.
  It needs far fewer evaluations and is exact when flipping is monotone in the step (stronger
  never un-flips); otherwise it finds *a* flipping step whose predecessor does not flip.

Either way the result is minimal on the grid in the sense a test can check: one step less does not flip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine.validation import check_choice

MODES: tuple[str, ...] = ("linear", "binary")

Probe = Callable[[list[int], list[int]], tuple[list[bool], list[Any]]]
"""``probe(rows, steps)`` -> (flipped per row, payload per row)."""


@dataclass(frozen=True)
class Found:
    """Per row: the first flipping step (``None``: no step of the grid flips), its payload, and how many probes ran."""

    steps: list[int | None]
    payloads: list[Any]
    evaluations: int


def first_flip(n_steps: Sequence[int], probe: Probe, mode: str = "linear") -> Found:
    """Per row, the smallest step whose probe flips (module docstring)."""
    check_choice("mode", mode, MODES)
    steps: list[int | None] = [None] * len(n_steps)
    payloads: list[Any] = [None] * len(n_steps)
    evaluations = 0

    def run(rows: list[int], at: list[int]) -> list[bool]:
        nonlocal evaluations
        if not rows:
            return []
        flipped, payload = probe(rows, at)
        evaluations += len(rows)
        for row, step, flip, value in zip(rows, at, flipped, payload):
            if flip:
                steps[row], payloads[row] = step, value
        return flipped

    if mode == "linear":
        active = [row for row, n in enumerate(n_steps) if n > 0]
        step = 0
        while active:
            flipped = run(active, [step] * len(active))
            active = [row for row, flip in zip(active, flipped) if not flip and step + 1 < n_steps[row]]
            step += 1
        return Found(steps, payloads, evaluations)

    rows = [row for row, n in enumerate(n_steps) if n > 0]
    flipped = run(rows, [n_steps[row] - 1 for row in rows])
    low = {row: -1 for row, flip in zip(rows, flipped) if flip}  # -1: before the grid; the last step flips
    high = {row: n_steps[row] - 1 for row in low}
    while True:
        open_rows = [row for row in low if high[row] - low[row] > 1]
        if not open_rows:
            return Found(steps, payloads, evaluations)
        middle = [(low[row] + high[row]) // 2 for row in open_rows]
        for row, mid, flip in zip(open_rows, middle, run(open_rows, middle)):
            if flip:
                high[row] = mid
            else:
                low[row] = mid
