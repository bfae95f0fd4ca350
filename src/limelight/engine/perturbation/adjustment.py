"""Regression adjustment of KernelSHAP with a cubic single-index surrogate (Witter et al., 2025).

Paired KernelSHAP is exact for games of degree two (every pairwise interaction cancels between
a coalition and its complement), so its error comes from interactions of three or more
features. A classifier's logit over words often looks like word effects that add up and are
then squashed; a surrogate ``g(z) = h(z . a)``, ``h`` a cubic, has such interactions of every
order from only ``F + 4`` coefficients, fitted to the drawn coalitions. Its Shapley values have a
closed form, and KernelSHAP of the residual game ``v - g`` on the same coalitions corrects what
``g`` misses: ``phi = phi(g) + KernelSHAP(v - g)``. Both parts are linear fits of exact or
sampled values, so an enumerated game stays exact and efficiency still holds exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

DEGREE = 3
"""The degree of ``h``: a cubic captures saturation (odd) and the quadratic part paired sampling already gets right."""

END_WEIGHT = 1e3
"""The full and empty coalitions weigh this many times all drawn rows together in the surrogate's fit."""


def rows_needed(n_features: int) -> int:
    """The drawn coalitions a surrogate of ``F + 4`` coefficients needs to help (fewer: it overfits, no adjustment)."""
    return 4 * n_features


def surrogate_split(design: Tensor, gain: Tensor, weights: Tensor, total: Tensor, linear: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """A surrogate ``g`` fitted around the linear fit ``linear``: ``phi(g)`` and the residual game ``v - g``.

    ``gain`` is ``v(z) - v(none)`` of the drawn ``design`` rows, ``total`` is ``v(all) - v(none)``;
    the residual game's gains and total go to the same KernelSHAP fit, whose scores are added to ``phi(g)``.
    """
    ends = torch.stack([torch.ones_like(design[0]), torch.zeros_like(design[0])])
    rows = torch.cat([design, ends])
    values = torch.cat([gain, torch.stack([total, torch.zeros_like(total)])])
    fit_weights = torch.cat([weights, torch.full((2,), END_WEIGHT * float(weights.sum()), dtype=weights.dtype)])
    index, coefficients = _fit_single_index(rows, values, fit_weights, linear)
    surrogate = _powers(rows @ index) @ coefficients
    residual_gain = gain - (surrogate[:-2] - surrogate[-1])
    return cubic_index_shapley(index, coefficients), residual_gain, total - (surrogate[-2] - surrogate[-1])


def cubic_index_shapley(index: Tensor, coefficients: Tensor) -> Tensor:
    """Exact Shapley values of ``g(z) = sum_k c_k (z . a)^k``, ``k <= 3``, for presence bits ``z``.

    With ``P = sum(a)`` and ``Q = sum(a^2)`` (``z_i^2 = z_i``; a product of ``m`` distinct bits
    shares its coefficient equally among its ``m`` features): ``(z . a)`` gives ``a_i``,
    ``(z . a)^2`` gives ``a_i P`` and ``(z . a)^3`` gives ``a_i (P^2 + Q / 2) - P a_i^2 / 2``.
    """
    p, q = index.sum(), (index**2).sum()
    c = coefficients
    return c[1] * index + c[2] * index * p + c[3] * (index * (p**2 + q / 2) - p * index**2 / 2)


def _powers(s: Tensor) -> Tensor:
    return torch.stack([s**k for k in range(DEGREE + 1)], 1)


def _fit_single_index(rows: Tensor, values: Tensor, weights: Tensor, start: Tensor) -> tuple[Tensor, Tensor]:
    """``(a, c)`` of ``values ~ sum_k c_k (rows . a)^k`` by weighted least squares: ``h`` on ``a = start``,
    one Gauss-Newton step on ``a``, then ``h`` again."""
    index = _normalised(rows, start)
    coefficients = _fit_cubic(rows @ index, values, weights)
    slope = _powers(rows @ index)[:, :DEGREE] @ (coefficients[1:] * torch.arange(1, DEGREE + 1, dtype=values.dtype))
    jacobian = slope[:, None] * rows
    residual = values - _powers(rows @ index) @ coefficients
    root = weights.sqrt()
    step = torch.linalg.lstsq(jacobian * root[:, None], (residual * root)[:, None], driver="gelsd").solution[:, 0]
    index = _normalised(rows, index + step)
    return index, _fit_cubic(rows @ index, values, weights)


def _normalised(rows: Tensor, index: Tensor) -> Tensor:
    """``index`` scaled so that ``rows . index`` stays within ``[-1, 1]`` (well-conditioned powers)."""
    scale = (rows @ index).abs().max()
    return index / scale if scale > 0 else index


def _fit_cubic(s: Tensor, values: Tensor, weights: Tensor) -> Tensor:
    root = weights.sqrt()
    return torch.linalg.lstsq(_powers(s) * root[:, None], (values * root)[:, None], driver="gelsd").solution[:, 0]
