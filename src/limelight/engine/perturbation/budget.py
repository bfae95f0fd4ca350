"""Evaluation budgets and per-example random streams for the sampled Shapley estimators.

``n_evaluations=B`` is a budget of model rows per example that an estimator never exceeds (the
empty and the full coalition included); it is the alternative to ``n_samples``, for comparing
estimators by accuracy per evaluation. With a budget, each example draws from its own generator,
seeded from the call's seed and the example's position, so an example's estimate does not depend
on the other examples of the batch.
"""

from __future__ import annotations

import torch

from ...errors import InvalidInputError
from ..validation import SEED_RANGE, check_optional_count

STREAM_STEP = 0x9E3779B97F4A7C15
"""Odd multiplier that spreads example positions over the seed range (golden-ratio hashing)."""


def check_budget(n_samples: int | None, n_evaluations: int | None) -> int | None:
    """A validated ``n_evaluations``; giving it together with ``n_samples`` is an error."""
    budget = check_optional_count("n_evaluations", n_evaluations, minimum=2)
    if budget is not None and n_samples is not None:
        raise InvalidInputError(f"give n_samples or n_evaluations, not both (got n_samples={n_samples}, n_evaluations={budget})")
    return budget


def example_generator(seed: int | None, example: int) -> torch.Generator:
    """The random stream of one example: the same for the same ``(seed, example)`` whatever the batch."""
    return torch.Generator().manual_seed(((seed or 0) + example * STREAM_STEP) % SEED_RANGE)


def too_small(budget: int, example: int, n_features: int, needed: int, what: str) -> InvalidInputError:
    """The error for a budget below an estimator's minimum for one example."""
    return InvalidInputError(
        f"n_evaluations={budget} is too small for example {example} with {n_features} features: {what} needs {needed} rows; "
        f"raise n_evaluations to at least {needed}"
    )
