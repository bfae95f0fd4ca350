"""Standard errors of a KernelSHAP fit, from the spread of its sampled coalitions.

The fit solves ``H beta = D' W t`` (the sum constraint eliminated, as in
:func:`~limelight.engine.perturbation.surrogate.sum_constrained_least_squares`); to first
order its sampling error is ``H^-1`` times the sum of the independent *units* (a draw, or a
draw and its complement) of score ``w r D``. The sandwich ``H^-1 (sum of centred unit scores,
squared) H^-1`` estimates its covariance (as in Covert & Lee, 2021); with strata (coalition sizes
drawn a fixed number of times) units are centred within their stratum. Enumerated coalitions
are not random and add nothing: a fit of every coalition has zero error.
"""

from __future__ import annotations

import torch
from torch import Tensor


def regression_standard_errors(
    design: Tensor, y: Tensor, weights: Tensor, total: Tensor, phi: Tensor, units: Tensor, strata: Tensor
) -> Tensor:
    """Standard error of each ``phi`` of a sum-constrained fit.

    ``units[i]`` is row ``i``'s draw (``-1``: enumerated), ``strata[u]`` draw ``u``'s stratum.
    A stratum of one draw shows no spread and adds nothing; NaN if the draws in strata of two or
    more do not outnumber the ``F - 1`` free coefficients (no residual spread to measure).
    """
    n_features = design.shape[1]
    sampled = units >= 0
    if not bool(sampled.any()):
        return torch.zeros(n_features, dtype=torch.float64)
    last = design[:, -1:]
    reduced, target = design[:, :-1] - last, y - last[:, 0] * total
    residual = target - reduced @ phi[:-1]
    inverse = torch.linalg.pinv(reduced.T @ (weights[:, None] * reduced))
    scores = (weights * residual)[sampled, None] * reduced[sampled]
    per_unit = torch.zeros((strata.shape[0], n_features - 1), dtype=torch.float64).index_add_(0, units[sampled], scores)
    size = torch.bincount(strata).double()
    if not bool((size > 1).any()):
        return torch.full((n_features,), float("nan"), dtype=torch.float64)
    means = torch.zeros((size.shape[0], n_features - 1), dtype=torch.float64).index_add_(0, strata, per_unit) / size[:, None]
    factor = torch.where(size > 1, size / (size - 1).clamp(min=1), torch.zeros_like(size))[strata]
    centred = (per_unit - means[strata]) * factor[:, None].sqrt()
    drawn = int(size[size > 1].sum())
    if drawn <= n_features - 1:
        return torch.full((n_features,), float("nan"), dtype=torch.float64)
    # residuals of a fit with few draws per unknown are too small: the small-sample (HC1) correction
    covariance = inverse @ (centred.T @ centred) @ inverse * (drawn / (drawn - n_features + 1))
    variances = torch.cat([covariance.diagonal(), covariance.sum().reshape(1)])
    return variances.clamp(min=0).sqrt()
