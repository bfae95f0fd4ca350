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
from .precision import exact_dtype
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
    """Evaluate ``plan`` chunk by chunk; with ``grad=False`` only the target values are computed.

    Everything stays on the model's device until the end: values are gathered there and copied
    to the host once, and non-finite values are flagged per row on the device and reported
    after the last chunk (the first bad row is named), so no chunk waits for the host.
    """
    values: list[Tensor] = []
    flags = _Flags()
    sums: list[Tensor] | None = None
    weights = groups = None
    for rows in chunks(plan.n_rows, chunk_rows):
        row_ids = torch.arange(rows.start, rows.stop)
        points = plan.points(row_ids)
        chunk_values, grads = space.evaluate(model, points, plan.example_index[rows], grad)
        chunk_values = chunk_values.detach()
        values.append(chunk_values)
        flags.add("the explained output", chunk_values)
        if grads is None:
            continue
        multipliers = plan.multipliers(row_ids) if plan.multipliers is not None else None
        if sums is None or weights is None or groups is None:
            device = grads[0].device
            dtype = exact_dtype(device)
            sums = [torch.zeros((plan.n_groups, *g.shape[1:]), dtype=dtype, device=g.device) for g in grads]
            weights, groups = plan.weights.to(device=device, dtype=dtype), plan.group_index.to(device)
        for position, gradient in enumerate(grads):
            flags.add(f"the gradient for input {position}", gradient)
            multiplier = multipliers[position] if multipliers is not None else None
            _add_weighted(sums[position], gradient, multiplier, weights[rows], groups[rows])
    flags.raise_first(plan)
    all_values = torch.cat(values).cpu().to(torch.float64) if values else torch.empty(0, dtype=torch.float64)
    return Accumulated(tuple(sums) if sums is not None else None, all_values)


BLOCK_BYTES = 4 * 1024**2
"""The most bytes of exact-dtype temporaries per block of rows when gradients are added to their sums.

Converting a whole chunk's gradients to float64 at once allocates (and on a CPU, page-faults) tens
to hundreds of MiB per chunk; blocks of this size stay in cache. The sums are the same to the
bit: every row is still added in row order.
"""


def _add_weighted(total: Tensor, gradient: Tensor, multiplier: Tensor | None, weights: Tensor, groups: Tensor) -> None:
    """``total[groups[r]] += weights[r] * multiplier[r] * gradient[r]`` in ``total``'s dtype, row by row in order."""
    row_bytes = max(1, gradient[:1].numel() * total.element_size())
    step = max(1, BLOCK_BYTES // row_bytes)
    weights, groups = weights.to(total.device), groups.to(total.device)
    for start in range(0, gradient.shape[0], step):
        block = slice(start, start + step)
        term = gradient[block].to(dtype=total.dtype, copy=True)
        if multiplier is not None:
            term.mul_(multiplier[block].to(device=term.device, dtype=term.dtype))
        term.mul_(weights[block].reshape(-1, *([1] * (term.dim() - 1))))
        total.index_add_(0, groups[block], term)


class _Flags:
    """Per-row largest magnitude of each checked quantity, kept on the device until the end.

    One reduction per chunk: the largest ``|v|`` of a row is NaN when the row has a NaN (max
    propagates NaN) and infinite when it has an infinity and no NaN.
    """

    def __init__(self) -> None:
        self.largest: dict[str, list[Tensor]] = {}

    def add(self, what: str, tensor: Tensor) -> None:
        flat = tensor.detach().reshape(tensor.shape[0], -1)
        if (flat.is_floating_point() or flat.is_complex()) and flat.shape[1] > 0:
            largest = flat.abs().amax(1)
        else:  # integers and empty rows are finite
            largest = torch.zeros(flat.shape[0], device=flat.device)
        self.largest.setdefault(what, []).append(largest)

    def raise_first(self, plan: RowPlan) -> None:
        """Raise :class:`NonFiniteError` for the first bad row of the first quantity that has one."""
        if not self.largest:
            return
        what = list(self.largest)
        largest = [torch.cat(self.largest[w]) for w in what]
        nan, inf = torch.stack([torch.isnan(m) for m in largest]), torch.stack([torch.isinf(m) for m in largest])
        bad = (nan | inf).cpu()
        if not bad.any():
            return
        quantity = int(bad.any(1).nonzero()[0])
        row = int(bad[quantity].nonzero()[0])
        kind = "NaN" if bool(nan[quantity, row]) else "infinite"
        raise NonFiniteError(
            f"{what[quantity]} is {kind} at {plan.describe_row(row)} (example {int(plan.example_index[row])}). "
            "Check the model for overflow (e.g. fp16), log of zero or division by zero; attributions would be meaningless."
        )
