"""Shapley values estimated from random permutations (Castro et al., 2009), with antithetic pairs.

Adding the features of a permutation one by one gives ``F + 1`` coalitions; each step's change of
the output is that feature's marginal contribution, and averaging over permutations estimates
its Shapley value. The steps of one permutation telescope to ``v(all) - v(none)``, so
efficiency holds for every permutation and for the average (``delta`` shows it). With
``antithetic=True`` every other permutation is the reverse of the one before, which cancels
much of the sampling error of nearly additive models.

``n_evaluations`` spends a budget of rows per example instead: as many permutations as fit
(``2 + n (F - 1)`` rows for ``n``), whole antithetic pairs. A standard error per feature comes
from the spread of the marginal contributions over the (pairs of) permutations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from typing_extensions import Unpack

from ..inputs import BaselineSpec, Inputs
from ..options import SampledOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_optional_count, seeded_generator
from .budget import check_budget, example_generator, too_small
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, evaluate_with_ends


def permutations(n_samples: int, n_features: int, antithetic: bool, generator: torch.Generator) -> Tensor:
    """``(n_samples, n_features)`` random orders of the features; reversed in pairs if ``antithetic``."""
    drawn = math.ceil(n_samples / 2) if antithetic else n_samples
    orders = torch.rand((drawn, n_features), generator=generator).argsort(1)
    if antithetic:
        orders = torch.stack([orders, orders.flip(1)], 1).reshape(-1, n_features)
    return orders[:n_samples]


def prefix_coalitions(orders: Tensor) -> Tensor:
    """The coalitions strictly between none and all along each order: ``(n, F - 1, F)``, step ``k`` has ``k + 1`` features."""
    n_features = orders.shape[1]
    positions = orders.argsort(1)
    return positions[:, None, :] <= torch.arange(n_features - 1)[None, :, None]


DEFAULT_SAMPLES = 32
"""Permutations per example when neither ``n_samples`` nor ``n_evaluations`` is given."""


@dataclass(frozen=True)
class ShapleyValueSamplingOptions(SampledOptions):
    """Sampled Shapley values' options: ``n_samples`` permutations or an ``n_evaluations`` budget, ``antithetic`` pairs, the ``seed`` used."""

    n_samples: int | None = None
    antithetic: bool = True
    n_evaluations: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optional_count("n_samples", self.n_samples)
        if check_budget(self.n_samples, self.n_evaluations) is None and self.n_samples is None:
            object.__setattr__(self, "n_samples", DEFAULT_SAMPLES)
        object.__setattr__(self, "antithetic", bool(self.antithetic))


def permutations_within(budget: int, n_features: int, antithetic: bool, example: int) -> int:
    """The most permutations of ``n_features`` whose rows fit in ``budget`` (whole pairs if ``antithetic``)."""
    if n_features < 2:
        return 1
    fitting = (budget - 2) // (n_features - 1)
    if fitting < 1:
        raise too_small(budget, example, n_features, n_features + 1, "one permutation")
    return fitting - fitting % 2 if antithetic and fitting > 1 else fitting


def permutation_standard_errors(order: Tensor, contributions: Tensor, antithetic: bool) -> Tensor:
    """Standard errors of the mean contributions, from their spread over independent (pairs of) permutations."""
    samples, n_features = order.shape
    per_feature = torch.zeros((samples, n_features), dtype=torch.float64).scatter_(1, order, contributions)
    unit = torch.arange(samples) // 2 if antithetic else torch.arange(samples)
    units = int(unit[-1]) + 1
    if units < 2:
        return torch.full((n_features,), float("nan"), dtype=torch.float64)
    means = torch.zeros((units, n_features), dtype=torch.float64).index_add_(0, unit, per_feature) / torch.bincount(unit)[:, None]
    return means.std(0) / units**0.5


class ShapleyValueSampling(PerturbationMethod[ShapleyValueSamplingOptions]):
    """Shapley values estimated from ``n_samples`` permutations per example, or within ``n_evaluations`` rows.

    Costs ``n_samples * (F - 1) + 2`` rows per example before deduplication (repeated coalitions
    are evaluated once); with ``n_evaluations=B`` never more than ``B`` rows per example, each
    example drawing from its own stream. Reproducible with ``seed`` (the seed used is in
    ``settings.seed``). ``delta`` is ``sum(phi) - (f(x) - f(baseline))``: zero up to rounding for
    any sample. ``extras.standard_errors`` estimates each score's sampling error.
    """

    name = "shapley_value_sampling"
    options_type = ShapleyValueSamplingOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_samples: int | None = None,
        antithetic: bool = True,
        seed: int | None = None,
        n_evaluations: int | None = None,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """Sampled Shapley values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        options = self.make_options(n_samples=n_samples, antithetic=antithetic, seed=seed, n_evaluations=n_evaluations)
        return self._run(inputs, baselines, target, options, common)

    def _scores(self, evaluator: CoalitionEvaluator, options: ShapleyValueSamplingOptions) -> Scores:
        counts, width = evaluator.features.counts, evaluator.features.width
        orders = _orders(counts.tolist(), options)
        values = evaluate_with_ends(evaluator, [prefix_coalitions(o).reshape(-1, o.shape[1]) for o in orders])
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        errors = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        for example, (order, v) in enumerate(zip(orders, values)):
            samples, n_features = order.shape
            chain = torch.cat([v[1].expand(samples, 1), v[2:].reshape(samples, n_features - 1), v[0].expand(samples, 1)], 1)
            contributions = chain.diff(dim=1)
            scores[example, :n_features] = (
                torch.zeros(n_features, dtype=torch.float64).index_add_(0, order.flatten(), contributions.flatten()) / samples
            )
            errors[example, :n_features] = permutation_standard_errors(order, contributions, options.antithetic)
        fx, fb = torch.stack([v[0] for v in values]), torch.stack([v[1] for v in values])
        return Scores(scores, delta=scores.sum(1) - (fx - fb), input_value=fx, baseline_value=fb, standard_errors=errors)


def _orders(counts: list[int], options: ShapleyValueSamplingOptions) -> list[Tensor]:
    """Each example's permutations: ``n_samples`` from one shared stream, or as many as the budget allows from its own."""
    budget = options.n_evaluations
    if budget is None:
        generator = seeded_generator(options.seed)
        return [permutations(options.n_samples or DEFAULT_SAMPLES, f, options.antithetic, generator) for f in counts]
    return [
        permutations(permutations_within(budget, f, options.antithetic, i), f, options.antithetic, example_generator(options.seed, i))
        for i, f in enumerate(counts)
    ]
