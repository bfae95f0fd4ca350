"""Quadrature rules on [0, 1] for path integrals.

A rule is a pair of float64 arrays ``(alphas, weights)``; every rule's weights sum to 1 (to the
last bit, by renormalising in float64), so a constant integrand is integrated exactly. Captum's
trapezoid rule, by contrast, sums to ``1 - 1/n``.

The adaptive mode (``n_steps="auto"``) uses trapezoid panels that it bisects where they are
wrong; see :mod:`limelight.engine.gradient.adaptive`.

Gauss-Legendre nodes come from Newton's method on the Legendre recurrence, started from
Tricomi's approximations: O(n) work per iteration and node, a few iterations, so 10,000 nodes
build in about a second (numpy's companion-matrix ``leggauss`` is O(n^3): minutes). A fixed rule
takes at most :data:`MAX_FIXED_STEPS` nodes; past that the integrand is smooth enough that more
nodes cannot help, and the path alone would need one model evaluation per node.
"""

from __future__ import annotations

import functools

import numpy as np

from ...errors import InvalidInputError
from ..validation import check_count

DEFAULT_RULE = "gausslegendre"
FIXED_RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
ADAPTIVE_RULE = "adaptive_trapezoid"
MAX_FIXED_STEPS = 10_000
"""The most nodes a fixed rule takes (``n_steps``); more is refused with advice to use ``n_steps="auto"``."""


def _normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def fixed_rule(name: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of a fixed ``n_steps``-point rule called ``name``."""
    if name not in FIXED_RULES:
        raise InvalidInputError(f"unknown integration method {name!r}; choose one of {FIXED_RULES} or n_steps='auto'")
    minimum = 2 if name == "riemann_trapezoid" else 1
    n = check_count(f"n_steps for {name!r}", n_steps, minimum)
    if n > MAX_FIXED_STEPS:
        raise InvalidInputError(
            f"n_steps={n} is more than the {MAX_FIXED_STEPS} nodes a fixed rule takes (each node is a model evaluation "
            f"per example); use n_steps <= {MAX_FIXED_STEPS}, or n_steps='auto' to refine only where the path needs it"
        )
    if name == "gausslegendre":
        nodes, weights = _gauss_legendre_on_unit_interval(n)
        return nodes.copy(), weights.copy()
    if name == "riemann_trapezoid":
        weights = np.ones(n)
        weights[[0, -1]] = 0.5
        return np.linspace(0.0, 1.0, n), _normalised(weights)
    offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}[name]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)


@functools.lru_cache(maxsize=8)
def _gauss_legendre_on_unit_interval(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and normalised weights on [0, 1], kept: options validation and the run both ask for them."""
    nodes, weights = gauss_legendre(n)
    return (nodes + 1.0) / 2.0, _normalised(weights)


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n``-point Gauss-Legendre nodes (increasing) and weights on ``[-1, 1]``, by Newton's method."""
    k = np.arange(1, (n + 1) // 2 + 1)
    nodes = (1 - (n - 1) / (8.0 * n**3)) * np.cos(np.pi * (4 * k - 1) / (4 * n + 2))  # Tricomi: the roots, decreasing
    for _ in range(_NEWTON_ITERATIONS):
        value, slope = _legendre(n, nodes)
        step = value / slope
        nodes = nodes - step
        if np.max(np.abs(step)) <= 1e-15:
            break
    slope = _legendre(n, nodes)[1]
    weights = 2.0 / ((1.0 - nodes * nodes) * slope**2)
    half = n // 2  # the roots are symmetric; the middle one (odd n) is 0
    return np.concatenate([-nodes, nodes[:half][::-1]]), np.concatenate([weights, weights[:half][::-1]])


_NEWTON_ITERATIONS = 10
"""Newton's method converges in two or three steps from Tricomi's guesses; this bounds it."""


def _legendre(n: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(P_n(x), P_n'(x))`` by the three-term recurrence (``x`` inside ``(-1, 1)``)."""
    previous, current = np.ones_like(x), x
    for j in range(2, n + 1):
        previous, current = current, ((2 * j - 1) * x * current - (j - 1) * previous) / j
    return current, n * (x * current - previous) / (x * x - 1.0)
