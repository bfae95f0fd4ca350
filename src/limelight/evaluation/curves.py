"""Perturbation curves and their summaries: modality-free maths over the values a metric measured.

A curve holds the objective after erasing (or keeping only) the top ``j`` features for a few
counts ``j``, against the fraction ``j / n`` of the ``n`` features; its area is a trapezoid sum.
AOPC is the mean of measured differences over the fractions evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Curve:
    """A deletion or insertion curve: the objective after erasing/keeping the top ``counts`` words."""

    counts: np.ndarray
    fractions: np.ndarray
    values: np.ndarray

    @property
    def area(self) -> float:
        """Trapezoid area under the curve over the fraction of words (``nan`` without words)."""
        if len(self.values) < 2:
            return math.nan
        widths = np.diff(self.fractions)
        return float((widths * (self.values[1:] + self.values[:-1]) / 2.0).sum())


def curve_counts(n_words: int, steps: int | None = None) -> list[int]:
    """Word counts a curve is evaluated at: every ``0..n``, or about ``steps`` even steps (ends included)."""
    if n_words == 0:
        return []
    if steps is None or steps >= n_words:
        return list(range(n_words + 1))
    return sorted({round(n_words * step / steps) for step in range(steps + 1)})


def aopc(values: np.ndarray) -> np.ndarray:
    """Area over the perturbation curve: the mean over the fractions axis (the last)."""
    return np.asarray(values, dtype=np.float64).mean(axis=-1)
