"""Quadrature rules on [0, 1] for path integrals.

A rule is a pair of float64 arrays ``(alphas, weights)``; every rule's weights sum to 1 (to the
last bit, by renormalising in float64), so a constant integrand is integrated exactly. Captum's
trapezoid rule, by contrast, sums to ``1 - 1/n``.

The adaptive mode (``n_steps="auto"``) uses trapezoid panels that it bisects where they are
wrong; see :mod:`limelight.engine.gradient.adaptive`.
"""

from __future__ import annotations

import numpy as np

from ...errors import InvalidInputError
from ..validation import check_count

DEFAULT_RULE = "gausslegendre"
FIXED_RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
ADAPTIVE_RULE = "adaptive_trapezoid"


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def fixed_rule(name: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a fixed ``n_steps``-point rule called ``name``."""
    if name not in FIXED_RULES:
        raise InvalidInputError(f"unknown integration method {name!r}; choose one of {FIXED_RULES} or n_steps='auto'")
    minimum = 2 if name == "riemann_trapezoid" else 1
    n = check_count(f"n_steps for {name!r}", n_steps, minimum)
    if name == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return (nodes + 1.0) / 2.0, _normalised(weights)
    if name == "riemann_trapezoid":
        weights = np.ones(n)
        weights[[0, -1]] = 0.5
        return np.linspace(0.0, 1.0, n), _normalised(weights)
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[name]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)
