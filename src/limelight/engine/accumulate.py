"""The one loop every gradient method runs: evaluate rows in chunks, sum weighted gradients per group.

A *row plan* lists, for every row, the example it belongs to, the group its gradient is summed
into (an example, or an example and a quadrature level) and a scalar weight; ``points(rows)`` and,
optionally, ``multipliers(rows)`` build the chunk's tensors on demand so memory stays bounded by
the chunk. Sums are kept in float64 so that the chunking changes nothing but the last bits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import NonFiniteError
from .chunking import chunks
from .model import BoundModel
from .spaces import Points, Space


@dataclass(frozen=True)
class RowPlan:
    """What to evaluate: rows, their examples, groups and weights, and how to build their tensors."""

    example_index: Tensor
    group_index: Tensor
    weights: Tensor
    n_groups: int
    points: Callable[[Tensor], Points]
    multipliers: Callable[[Tensor], Points] | None = None
    describe_row: Callable[[int], str] = lambda row: f"row {row}"

    @property
    def n_rows(self) -> int:
        return self.example_index.shape[0]


@dataclass(frozen=True)
class Accumulated:
    """Per-group float64 sums of ``weight * multiplier * gradient``, and each row's target value."""

    sums: Points | None
    values: Tensor

    @property
    def gradient_sums(self) -> Points:
        """``sums``, for a plan evaluated with gradients (``grad=True``)."""
        if self.sums is None:
            raise RuntimeError("this row plan was evaluated without gradients (grad=False): it has no gradient sums")
        return self.sums


def accumulate(space: Space, model: BoundModel, plan: RowPlan, chunk_rows: int, grad: bool = True) -> Accumulated:
    """Evaluate ``plan`` chunk by chunk; with ``grad=False`` only the target values are computed."""
    values = torch.empty(plan.n_rows, dtype=torch.float64)
    sums: list[Tensor] | None = None
    for rows in chunks(plan.n_rows, chunk_rows):
        row_ids = torch.arange(rows.start, rows.stop)
        points = plan.points(row_ids)
        chunk_values, grads = space.evaluate(model, points, plan.example_index[rows], grad)
        _check_finite(chunk_values, "the explained output", plan, rows.start)
        values[rows] = chunk_values.detach().to(torch.float64).cpu()
        if grads is None:
            continue
        multipliers = plan.multipliers(row_ids) if plan.multipliers is not None else None
        if sums is None:
            sums = [torch.zeros((plan.n_groups, *g.shape[1:]), dtype=torch.float64, device=g.device) for g in grads]
        for position, gradient in enumerate(grads):
            _check_finite(gradient, f"the gradient for input {position}", plan, rows.start)
            term = gradient.to(torch.float64)
            if multipliers is not None:
                term = term * multipliers[position].to(torch.float64)
            weights = plan.weights[rows].to(term.device).reshape(-1, *([1] * (term.dim() - 1)))
            sums[position].index_add_(0, plan.group_index[rows].to(term.device), term * weights)
    return Accumulated(tuple(sums) if sums is not None else None, values)


def _check_finite(tensor: Tensor, what: str, plan: RowPlan, first_row: int) -> None:
    bad = ~torch.isfinite(tensor)
    if bad.any():
        row = first_row + int(bad.reshape(bad.shape[0], -1).any(1).nonzero()[0])
        kind = "NaN" if torch.isnan(tensor).any() else "infinite"
        raise NonFiniteError(
            f"{what} is {kind} at {plan.describe_row(row)} (example {int(plan.example_index[row])}). "
            "Check the model for overflow (e.g. fp16), log of zero or division by zero; attributions would be meaningless."
        )
