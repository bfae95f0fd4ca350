"""The significance test of TCAV: Welch's two-sided t-test and a Bonferroni correction, without scipy.

Student's t distribution function comes from the regularized incomplete beta function,
``P(|T| > t) = I_{df / (df + t^2)}(df / 2, 1 / 2)``, evaluated by its continued fraction with the
modified Lentz method (Press et al., *Numerical Recipes*, 6.4), accurate to about 1e-12.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import InvalidInputError

_EPSILON = 1e-15
_TINY = 1e-300
_MAX_TERMS = 500


def _beta_fraction(x: float, a: float, b: float) -> float:
    """The continued fraction of the incomplete beta function (converges fast for ``x < (a + 1) / (a + b + 2)``)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    value = d
    for m in range(1, _MAX_TERMS + 1):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            value *= c * d
        if abs(c * d - 1.0) < _EPSILON:
            break
    return value


def regularized_beta(x: float, a: float, b: float) -> float:
    """``I_x(a, b)``, the regularized incomplete beta function, for ``0 <= x <= 1`` and ``a, b > 0``."""
    if not 0.0 <= x <= 1.0:
        raise InvalidInputError(f"x must lie in [0, 1], got {x!r}")
    if x in (0.0, 1.0):
        return x
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(x, a, b) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(1.0 - x, b, a) / b


def t_two_sided(t: float, df: float) -> float:
    """``P(|T| >= |t|)`` for Student's t with ``df`` (real, positive) degrees of freedom."""
    if not df > 0:
        raise InvalidInputError(f"degrees of freedom must be positive, got {df!r}")
    if math.isinf(t):
        return 0.0
    return regularized_beta(df / (df + t * t), df / 2.0, 0.5)


@dataclass(frozen=True)
class TTest:
    """Welch's t statistic, its degrees of freedom and the two-sided p-value."""

    statistic: float
    df: float
    p_value: float


def welch_t_test(first: Sequence[float], second: Sequence[float]) -> TTest:
    """Welch's two-sided t-test of equal means (unequal variances allowed); each sample needs two values.

    With no spread in either sample the test is decided by the means alone: p = 1 when they are
    equal, 0 when they differ.
    """
    n1, n2 = len(first), len(second)
    if n1 < 2 or n2 < 2:
        raise InvalidInputError(f"a t-test needs at least 2 values per sample, got {n1} and {n2}; use n_runs >= 2")
    m1, m2 = sum(first) / n1, sum(second) / n2
    v1 = sum((v - m1) ** 2 for v in first) / (n1 - 1) / n1
    v2 = sum((v - m2) ** 2 for v in second) / (n2 - 1) / n2
    if v1 + v2 == 0.0:
        same = m1 == m2
        return TTest(0.0 if same else math.copysign(math.inf, m1 - m2), float(n1 + n2 - 2), 1.0 if same else 0.0)
    statistic = (m1 - m2) / math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    return TTest(statistic, df, t_two_sided(statistic, df))


def bonferroni(p_values: Sequence[float], comparisons: int | None = None) -> list[float]:
    """Each p-value times the number of comparisons (``len(p_values)`` unless given), capped at 1."""
    count = len(p_values) if comparisons is None else comparisons
    return [min(1.0, p * count) for p in p_values]
