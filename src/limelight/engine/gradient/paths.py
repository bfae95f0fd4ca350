"""Straight-line paths from baselines to inputs, evaluated as chunked rows."""

from __future__ import annotations

import torch
from torch import Tensor

from ..accumulate import RowPlan
from ..spaces import Points


def path_plan(x: Points, b: Points, examples: Tensor, alphas: Tensor, weights: Tensor, groups: Tensor, n_groups: int) -> RowPlan:
    """Rows at ``b + alpha (x - b)`` for the given (example, alpha) pairs, summed into ``groups``.

    ``x - b`` is taken once per example and each chunk is built in place from it (the same
    numbers as ``b[e] + a * (x[e] - b[e])``, with two temporaries instead of five).
    """
    differences = tuple(xi - bi for xi, bi in zip(x, b))

    def points(rows: Tensor) -> Points:
        e, a = examples[rows], alphas[rows]
        built = []
        for xi, bi, di in zip(x, b, differences):
            point = di[e.to(di.device)]
            point.mul_(a.to(device=xi.device, dtype=xi.dtype).reshape(-1, *([1] * (xi.dim() - 1))))
            built.append(point.add_(bi[e.to(bi.device)]))
        return tuple(built)

    describe = lambda row: f"alpha={alphas[row].item():.4g}"  # noqa: E731
    return RowPlan(examples, groups, weights, n_groups, points, describe_row=describe)


def scale(x: Points, b: Points, mean_gradients: Points) -> tuple[Tensor, ...]:
    """``(x - b) * mean gradient``: the path integral's value, in the inputs' dtype."""
    return tuple(((xi - bi).to(torch.float64) * g.to(torch.float64)).to(xi.dtype) for xi, bi, g in zip(x, b, mean_gradients))
