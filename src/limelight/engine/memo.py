"""What a method instance remembers about its forward between calls, so probes are not repeated.

The forward-contract probe and the memory measurement cost a few small forwards each; a user
who explains one sentence at a time would pay them on every call. A :class:`ProbeMemo` keeps,
per *signature* (the inputs' dtypes, ranks and devices, the structure of the extra arguments,
the target's kind and the space), whether the contract held and what one row cost. Lengths
are not part of the signature: a row's memory is rescaled from the measured row by its size,
conservatively (quadratically when it grows, as attention does), and measured again when a
row is more than :data:`REMEASURE_GROWTH` times the measured one. Only chunk sizes depend on
the estimate, and results never depend on chunk sizes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from .model import BoundModel
from .spaces import Points

REMEASURE_GROWTH = 2.0
"""A row more than this many times the measured row's size is measured again."""


@dataclass(frozen=True)
class _RowCost:
    size: int
    bytes_per_row: int


def _shape_free(value: Any) -> Hashable:
    if isinstance(value, Tensor):
        return (value.dtype, value.dim(), str(value.device))
    return type(value).__name__


def signature(points: Points, model: BoundModel, *extra: Hashable) -> Hashable:
    """What a probe's verdict depends on, lengths left out (``extra``: the space, the perturber, ...)."""
    args = tuple(_shape_free(a) for a in model.args.args)
    kwargs = tuple(sorted((k, _shape_free(v)) for k, v in model.args.kwargs.items()))
    return (tuple(_shape_free(p) for p in points), args, kwargs, type(model.target).__name__, *extra)


def row_size(points: Points, model: BoundModel) -> int:
    """Elements of one row: the first row of each point tensor and of each per-example argument."""
    per_example = [
        v
        for v in (*model.args.args, *model.args.kwargs.values())
        if isinstance(v, Tensor) and v.dim() > 0 and v.shape[0] == model.args.n_examples
    ]
    return sum(t[:1].numel() for t in (*points, *per_example))


class ProbeMemo:
    """Per signature: whether the forward passed its probe, and the measured memory of one row."""

    def __init__(self) -> None:
        self._passed: set[Hashable] = set()
        self._costs: dict[Hashable, _RowCost] = {}

    def check_once(self, key: Hashable, check: Callable[[], None]) -> None:
        """Run ``check`` (which raises on a broken forward) unless it already passed for ``key``."""
        if key not in self._passed:
            check()
            self._passed.add(key)

    def bytes_per_row(self, key: Hashable, size: int, measure: Callable[[], int]) -> int:
        """Bytes one row of ``size`` elements costs: measured once, then rescaled (upwards when unsure)."""
        known = self._costs.get(key)
        if known is None or size > REMEASURE_GROWTH * known.size:
            known = _RowCost(max(size, 1), measure())
            self._costs[key] = known
            return known.bytes_per_row
        ratio = size / known.size
        return math.ceil(known.bytes_per_row * max(ratio, ratio * ratio))
