"""Bootstrap confidence intervals over inputs, and paired comparisons of two methods.

Inputs are resampled with replacement ``n_bootstrap`` times; one resample index matrix is shared
by every method and metric, so comparisons between methods are paired (the same inputs in each
resample). A metric's value on a resample is the mean over the resampled inputs where it is
defined (``nan`` values are left out). Intervals are percentile intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from limelight.engine.validation import check_count
from limelight.errors import InvalidInputError


@dataclass(frozen=True)
class Estimate:
    """A mean over inputs with its bootstrap interval ``[low, high]`` and the number of inputs it is defined on."""

    mean: float
    low: float
    high: float
    n: int

    def format(self, digits: int = 3) -> str:
        """``0.412 [0.371, 0.455]``, or ``n/a`` when undefined."""
        if math.isnan(self.mean):
            return "n/a"
        return f"{self.mean:.{digits}g} [{self.low:.{digits}g}, {self.high:.{digits}g}]"


def resample_indices(n_inputs: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """``(n_bootstrap, n_inputs)`` input indices drawn with replacement, reproducible from ``seed``."""
    check_count("n_bootstrap", n_bootstrap)
    return np.random.default_rng(seed).integers(0, max(n_inputs, 1), size=(n_bootstrap, n_inputs))


def resampled_means(values: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The mean of ``values`` over each resample, ignoring ``nan`` (``nan`` when a resample has none)."""
    taken = np.asarray(values, dtype=np.float64)[indices]
    defined = ~np.isnan(taken)
    counts = defined.sum(axis=1)
    sums = np.where(defined, taken, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), math.nan)


def estimate(values: np.ndarray, indices: np.ndarray, confidence: float = 0.95) -> Estimate:
    """Mean and percentile bootstrap interval of ``values`` (``nan`` entries ignored)."""
    if not 0.0 < confidence < 1.0:
        raise InvalidInputError(f"confidence must be in (0, 1), got {confidence}")
    array = np.asarray(values, dtype=np.float64)
    defined = array[~np.isnan(array)]
    if defined.size == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    means = resampled_means(array, indices)
    means = means[~np.isnan(means)]
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail]) if means.size else (math.nan, math.nan)
    return Estimate(float(defined.mean()), float(low), float(high), int(defined.size))


def win_rate(first: np.ndarray, second: np.ndarray, indices: np.ndarray, higher_is_better: bool = True) -> float:
    """Fraction of paired resamples in which ``first``'s mean is better than ``second``'s (ties count half)."""
    a, b = resampled_means(first, indices), resampled_means(second, indices)
    both = ~(np.isnan(a) | np.isnan(b))
    if not both.any():
        return math.nan
    difference = (a - b)[both] if higher_is_better else (b - a)[both]
    return float(((difference > 0).sum() + 0.5 * (difference == 0).sum()) / difference.size)
