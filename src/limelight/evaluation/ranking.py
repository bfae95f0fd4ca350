"""Orders and rank correlations of word scores: small pure functions over 1-D arrays.

Ranking rule used by every metric: most important first, by signed score (evidence *for* the
explained quantity) or by ``|score|``; ties keep reading order, so results are deterministic.
Correlations return ``nan`` when they are undefined (fewer than two words, or a constant vector).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from limelight.engine.validation import check_choice
from limelight.errors import InvalidInputError

RankBy = Literal["signed", "absolute"]
RANK_BY: tuple[str, ...] = ("signed", "absolute")


def check_rank_by(rank_by: str) -> str:
    """Validate how words are ranked."""
    return check_choice("rank_by", rank_by, RANK_BY)


def rank_order(scores: np.ndarray, rank_by: RankBy = "signed") -> np.ndarray:
    """Word indices from most to least important (stable: ties in reading order)."""
    values = np.asarray(scores, dtype=np.float64)
    key = np.abs(values) if check_rank_by(rank_by) == "absolute" else values
    return np.argsort(-key, kind="stable")


def top_count(n_words: int, fraction: float) -> int:
    """How many words the top ``fraction`` holds: ``ceil(fraction * n)``, at least one, at most ``n``."""
    if not 0.0 < fraction <= 1.0:
        raise InvalidInputError(f"fractions of words must be in (0, 1], got {fraction}")
    return min(n_words, max(1, math.ceil(fraction * n_words - 1e-9)))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values`` (ascending); tied values share the mean of their ranks."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start : end + 1]] = (start + end) / 2.0 + 1.0
        start = end + 1
    return ranks


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / norm if norm > 0 else math.nan


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    first, second = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if first.shape != second.shape or first.ndim != 1:
        raise InvalidInputError(f"rank correlation needs two 1-D arrays of equal length, got {first.shape} and {second.shape}")
    return first, second


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho: the Pearson correlation of average ranks; ``nan`` if undefined."""
    first, second = _pair(a, b)
    if len(first) < 2:
        return math.nan
    return _pearson(average_ranks(first), average_ranks(second))


def kendall_tau(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b (ties corrected); ``nan`` if either vector is constant or shorter than two."""
    first, second = _pair(a, b)
    if len(first) < 2:
        return math.nan
    upper = np.triu_indices(len(first), k=1)
    da = np.sign(first[:, None] - first[None, :])[upper]
    db = np.sign(second[:, None] - second[None, :])[upper]
    untied_a, untied_b = np.count_nonzero(da), np.count_nonzero(db)
    if untied_a == 0 or untied_b == 0:
        return math.nan
    return float((da * db).sum()) / math.sqrt(untied_a * untied_b)
