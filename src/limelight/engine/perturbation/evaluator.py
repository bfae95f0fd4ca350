"""The coalition evaluator: the one loop every perturbation method runs.

A method asks for the explained value of *rows*, each an (example, coalition) pair. The
evaluator has the perturber build each chunk's inputs on demand and evaluates them without
gradients through :func:`~limelight.engine.accumulate.accumulate`, so memory is bounded by the
chunk, non-finite outputs are reported, and values never depend on the chunk size. Materialised
coalitions are deduplicated first: sampled coalitions repeat, and a repeat costs no forward.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from ..._progress import progress_bar
from ..accumulate import RowPlan, accumulate
from ..chunking import AUTO_MIN_CHUNKS, saved_bytes
from ..model import BoundModel
from ..spaces import InputSpace
from .features import Features
from .perturbers import Perturber

Coalitions = Callable[[Tensor], Tensor]
"""Row ids -> their coalitions, ``(rows, width)`` bool, built per chunk."""


class CoalitionEvaluator:
    """The explained value of (example, coalition) rows, in chunks of ``chunk_rows``, without gradients.

    ``evaluations`` counts the rows evaluated so far (the forward passes' total batch size).
    """

    def __init__(
        self, model: BoundModel, perturber: Perturber, features: Features, chunk_rows: int, show_progress: bool | None, name: str
    ) -> None:
        self.model = model
        self.perturber = perturber
        self.features = features
        self.chunk_rows = chunk_rows
        self.show_progress = show_progress
        self.name = name
        self.evaluations = 0

    def lazy(self, example_index: Tensor, coalitions: Coalitions) -> Tensor:
        """Values (float64, CPU) of rows whose coalitions are built chunk by chunk (for huge or regular sets)."""
        n = example_index.shape[0]
        chunks = math.ceil(n / self.chunk_rows)
        with progress_bar(f"{self.name}: {n} perturbed inputs", chunks, self.show_progress, minimum=AUTO_MIN_CHUNKS) as tick:

            def points(rows: Tensor) -> tuple[Tensor, ...]:
                tick()
                return self.perturber.perturb(example_index[rows], coalitions(rows))

            def describe(row: int) -> str:
                count = int(self.features.counts[int(example_index[row])])
                present = int(coalitions(torch.tensor([row]))[0, :count].sum())
                return f"a perturbed input with {present} of {count} features present"

            plan = RowPlan(
                example_index,
                example_index,
                torch.ones(n, dtype=torch.float64),
                self.features.counts.shape[0],
                points,
                describe_row=describe,
            )
            values = accumulate(InputSpace(), self.model, plan, self.chunk_rows, grad=False).values
        self.evaluations += n
        return values

    def evaluate(self, example_index: Tensor, coalitions: Tensor) -> Tensor:
        """Values (float64, CPU) of materialised ``(rows, width)`` coalitions; repeated rows are evaluated once."""
        key = torch.cat([example_index[:, None], coalitions.long()], 1)
        unique, inverse = torch.unique(key, dim=0, return_inverse=True)
        return self.lazy(unique[:, 0], lambda rows: unique[rows, 1:].bool())[inverse]


def probe_coalitions(width: int) -> Tensor:
    """Three coalitions of one example for probing the forward: all present, none, every other one."""
    return torch.stack([torch.ones(width, dtype=torch.bool), torch.zeros(width, dtype=torch.bool), torch.arange(width) % 2 == 0])


def row_bytes(model: BoundModel, perturber: Perturber, width: int) -> int:
    """The memory of one more perturbed row in a probe forward (see ``chunking.rows_for_budget``).

    The cost is measured as the activations autograd would save for one and two perturbed rows
    (an upper bound on what a forward without gradients keeps alive; two rows at most, so the probe
    stays within what the budget allows a chunk of one row), and is at least the row's input bytes,
    for forwards with no parameters to record.
    """
    rows = perturber.perturb(torch.zeros(2, dtype=torch.long), probe_coalitions(width)[:2])
    index = torch.zeros(2, dtype=torch.long)

    def cost(k: int) -> int:
        with torch.enable_grad():
            return saved_bytes(lambda: model.values(tuple(r[:k] for r in rows), index[:k]))

    one, two = cost(1), cost(2)
    input_bytes = sum(r[1:].numel() * r.element_size() for r in rows)
    return max(two - one, input_bytes)
