"""Weighted linear fits for surrogate methods (KernelSHAP, LIME), in float64.

Solved with SVD-based least squares, so rank-deficient designs (too few distinct coalitions)
give the minimum-norm solution instead of failing.
"""

from __future__ import annotations

import torch
from torch import Tensor


def weighted_least_squares(design: Tensor, y: Tensor, weights: Tensor, alpha: float = 0.0) -> Tensor:
    """``argmin_b sum w (y - design b)^2 + alpha |b|^2``."""
    root = weights.sqrt()
    a, t = design * root[:, None], y * root
    if alpha > 0:
        a = torch.cat([a, alpha**0.5 * torch.eye(design.shape[1], dtype=design.dtype)])
        t = torch.cat([t, t.new_zeros(design.shape[1])])
    return torch.linalg.lstsq(a, t[:, None], driver="gelsd").solution[:, 0]


def sum_constrained_least_squares(design: Tensor, y: Tensor, weights: Tensor, total: Tensor) -> Tensor:
    """``argmin_b sum w (y - design b)^2`` subject to ``sum(b) = total``, exactly.

    The constraint is eliminated: ``b_last = total - sum(b_rest)``, which turns the problem into an
    unconstrained fit of ``y - design_last * total`` on ``design_rest - design_last``.
    """
    last = design[:, -1]
    rest = weighted_least_squares(design[:, :-1] - last[:, None], y - last * total, weights)
    return torch.cat([rest, (total - rest.sum()).reshape(1)])


def ridge_with_intercept(design: Tensor, y: Tensor, weights: Tensor, alpha: float) -> tuple[Tensor, Tensor]:
    """Weighted ridge regression with an unpenalised intercept: ``(coefficients, intercept)``."""
    share = weights / weights.sum()
    mean_x, mean_y = share @ design, share @ y
    coefficients = weighted_least_squares(design - mean_x, y - mean_y, weights, alpha)
    return coefficients, mean_y - mean_x @ coefficients


def weighted_r2(y: Tensor, fitted: Tensor, weights: Tensor) -> Tensor:
    """The weighted coefficient of determination of a fit; NaN (undefined) when ``y`` is constant."""
    share = weights / weights.sum()
    spread = share @ (y - share @ y) ** 2
    return 1 - (share @ (y - fitted) ** 2) / spread if spread > 0 else torch.tensor(float("nan"), dtype=y.dtype)
