"""A cheap probe of the forward's contract before the real work starts.

Attribution sums the gradients of many rows in one backward pass, which is only right if each
output row depends on its own input row alone. Three forwards of two rows check that: the same
batch twice (the forward must be deterministic), then a batch with other rows, far from the first on both
sides (the first row's value must not move). Shape errors such as ``[0]`` indexing surface here too.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..errors import BatchDependenceError
from .chunking import saved_bytes
from .model import BoundModel
from .spaces import Points, Space

RTOL, ATOL = 1e-4, 1e-5


def _rows(*points: Points) -> Points:
    return tuple(torch.cat(parts) for parts in zip(*points))


def _other_points(inputs: Points, baselines: Points) -> tuple[Points, Points]:
    """Two points unlike ``inputs[0]`` and ``baselines[0]``, beyond each end of their segment.

    Far points make batch statistics (means, maxima) move even when the first row dominates.
    """

    def beyond(sign: float) -> Points:
        return tuple(x[:1] + sign * (4 * (x[:1] - b[:1]) + x[:1].abs().mean() + 1) for x, b in zip(inputs, baselines))

    return beyond(1.0), beyond(-1.0)


def check_forward(space: Space, model: BoundModel, inputs: Points, baselines: Points) -> None:
    """Raise :class:`BatchDependenceError` if the forward is random or mixes rows of a batch."""
    pair = _rows(tuple(x[:1] for x in inputs), tuple(b[:1] for b in baselines))
    far, near = _other_points(inputs, baselines)
    check_independent(
        lambda rows, index: space.evaluate(model, rows, index, grad=False)[0],
        pair,
        torch.zeros(2, dtype=torch.long),
        _rows(pair, far, near),
        torch.zeros(4, dtype=torch.long),
    )


def check_independent(
    values: Callable[[Points, Tensor], Tensor], pair: Points, pair_index: Tensor, crowd: Points, crowd_index: Tensor
) -> None:
    """Evaluate ``pair`` twice (it must not change), then ``crowd``, whose row 0 is the pair's: it must not move.

    ``values(rows, example_index)`` gives the explained value of each row.
    """
    once, again = values(pair, pair_index), values(pair, pair_index)
    if not torch.allclose(once, again, rtol=RTOL, atol=ATOL):
        raise BatchDependenceError(
            f"the forward returned different values for the same batch twice ({_show(once)} then {_show(again)}): "
            "it is random, so attributions would be too. Put the model in eval mode (dropout off), or pass the model "
            "(or its bound method) as the forward so limelight can do it for you."
        )
    moved = values(crowd, crowd_index)
    if not torch.allclose(once[0], moved[0], rtol=RTOL, atol=ATOL):
        raise BatchDependenceError(
            f"output row 0 changed from {once[0].item():.6g} to {moved[0].item():.6g} when other rows joined the "
            "batch: the forward's rows are not independent. limelight evaluates many rows per call and sums their "
            "gradients, so a cross-row dependence would mix examples and make results depend on the batch size. "
            "Typical causes: indexing or reducing over the batch (`[0]`, `.mean(0)`, `max` over dim 0) or "
            "batch-norm in training mode. Return one output row per input row and choose the value with target=."
        )


def measure_row_bytes(space: Space, model: BoundModel, inputs: Points, baselines: Points) -> int:
    """Bytes autograd saves for one more row: a two-row minus a one-row evaluation (see ``chunking.rows_for_budget``).

    Two rows at most, so the probe holds no more than the budget allows a chunk of one row.
    """
    one = tuple(x[:1] for x in inputs)
    two = _rows(one, tuple(b[:1] for b in baselines))
    measure = lambda rows: saved_bytes(lambda: space.evaluate(model, rows, torch.zeros(rows[0].shape[0], dtype=torch.long), grad=True))  # noqa: E731
    one_row = measure(one)
    return measure(two) - one_row


def _show(values: Tensor) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in values.tolist()) + "]"
