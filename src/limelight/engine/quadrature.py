"""Quadrature rules on [0, 1] for path integrals.

A rule is a pair of float64 arrays ``(alphas, weights)``; every rule's weights sum to 1 (to the
last bit, by renormalising in float64), so a constant integrand is integrated exactly. Captum's
trapezoid rule, by contrast, sums to ``1 - 1/n``.

The adaptive mode uses Romberg integration: trapezoid sums on nested grids of ``2**k + 1``
nodes (each level reuses every earlier gradient) combined by Richardson extrapolation. Romberg
weights are all positive, so the extrapolation is stable.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..errors import InvalidInputError

FIXED_RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
ADAPTIVE_RULE = "romberg"


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def fixed_rule(name: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a fixed ``n_steps``-point rule called ``name``."""
    if name not in FIXED_RULES:
        raise InvalidInputError(f"unknown integration method {name!r}; choose one of {FIXED_RULES} or n_steps='auto'")
    minimum = 2 if name == "riemann_trapezoid" else 1
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < minimum:
        raise InvalidInputError(f"n_steps must be an int >= {minimum} for {name!r} (or 'auto'), got {n_steps!r}")
    n = n_steps
    if name == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return (nodes + 1.0) / 2.0, _normalised(weights)
    if name == "riemann_trapezoid":
        weights = np.ones(n)
        weights[[0, -1]] = 0.5
        return np.linspace(0.0, 1.0, n), _normalised(weights)
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[name]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)


def romberg_level_nodes(level: int) -> np.ndarray:
    """The nodes a Romberg level adds: 0 and 1 at level 0, the odd multiples of ``2**-level`` after."""
    if level == 0:
        return np.array([0.0, 1.0])
    return np.arange(1, 2**level, 2, dtype=np.float64) / 2**level


def romberg_level_weight(level: int) -> float:
    """Weight of each node of ``level`` inside its level's partial sum (level 0's endpoints count half)."""
    return 0.5 if level == 0 else 1.0


@lru_cache(maxsize=None)
def romberg_coefficients(level: int) -> tuple[float, ...]:
    """Coefficients ``c_l`` with ``R(k, k) = sum_l c_l * P_l`` for ``k = level``.

    ``P_l`` is the plain sum of gradients over the nodes level ``l`` adds (endpoints halved), so the
    trapezoid sum on ``2**k + 1`` nodes is ``T_k = 2**-k * sum_{l <= k} P_l``. Exact rational
    arithmetic keeps the coefficients' sum at exactly 1 before rounding.
    """
    trapezoids = [[Fraction(1, 2**k) if l <= k else Fraction(0) for l in range(level + 1)] for k in range(level + 1)]
    column = trapezoids
    for m in range(1, level + 1):
        factor = Fraction(1, 4**m - 1)
        column = [
            [a + (a - b) * factor for a, b in zip(column[k], column[k - 1])] for k in range(1, len(column))
        ]
    return tuple(float(c) for c in column[-1])


def romberg_nodes(levels: int) -> int:
    """Number of distinct nodes after ``levels + 1`` Romberg levels: ``2**levels + 1``."""
    return 2**levels + 1


def romberg_level_for(min_steps: int) -> int:
    """Smallest level whose node count is at least ``min_steps``."""
    level = 0
    while romberg_nodes(level) < min_steps:
        level += 1
    return level
