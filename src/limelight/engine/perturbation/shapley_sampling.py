"""Shapley values estimated from random permutations (Castro et al., 2009), with antithetic pairs.

Adding the features of a permutation one by one gives ``F + 1`` coalitions; each step's change of
the output is that feature's marginal contribution, and averaging over permutations estimates
its Shapley value. The steps of one permutation telescope to ``v(all) - v(none)``, so
efficiency holds for every permutation and for the average (``delta`` shows it). With
``antithetic=True`` every other permutation is the reverse of the one before, which cancels
much of the sampling error of nearly additive models.
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
from ..validation import check_count, seeded_generator
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, pad_columns


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


@dataclass(frozen=True)
class ShapleyValueSamplingOptions(SampledOptions):
    """Sampled Shapley values' options: ``n_samples`` permutations, ``antithetic`` pairs, the ``seed`` used."""

    n_samples: int = 32
    antithetic: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_count("n_samples", self.n_samples)
        object.__setattr__(self, "antithetic", bool(self.antithetic))


class ShapleyValueSampling(PerturbationMethod[ShapleyValueSamplingOptions]):
    """Shapley values estimated from ``n_samples`` permutations per example.

    Costs ``n_samples * (F - 1) + 2`` rows per example before deduplication (repeated coalitions
    are evaluated once). Reproducible with ``seed`` (the seed used is in ``settings.seed``).
    ``delta`` is ``sum(phi) - (f(x) - f(baseline))``: zero up to rounding for any sample.
    """

    name = "shapley_value_sampling"
    options_type = ShapleyValueSamplingOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_samples: int = 32,
        antithetic: bool = True,
        seed: int | None = None,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """Sampled Shapley values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        options = self.make_options(n_samples=n_samples, antithetic=antithetic, seed=seed)
        return self._run(inputs, baselines, target, options, common)

    def _scores(self, evaluator: CoalitionEvaluator, options: ShapleyValueSamplingOptions) -> Scores:
        counts, width, samples = evaluator.features.counts, evaluator.features.width, options.n_samples
        generator = seeded_generator(options.seed)
        orders = [permutations(samples, int(f), options.antithetic, generator) for f in counts]
        blocks = [
            pad_columns(torch.cat([torch.ones((1, o.shape[1]), dtype=torch.bool), torch.zeros((1, o.shape[1]), dtype=torch.bool), prefix_coalitions(o).reshape(-1, o.shape[1])]), width)
            for o in orders
        ]
        sizes = torch.tensor([b.shape[0] for b in blocks])
        values = evaluator.evaluate(torch.arange(counts.shape[0]).repeat_interleave(sizes), torch.cat(blocks)).split(sizes.tolist())
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        for example, (order, v) in enumerate(zip(orders, values)):
            n_features = order.shape[1]
            chain = torch.cat([v[1].expand(samples, 1), v[2:].reshape(samples, n_features - 1), v[0].expand(samples, 1)], 1)
            contributions = chain.diff(dim=1)
            scores[example, :n_features] = torch.zeros(n_features, dtype=torch.float64).index_add_(0, order.flatten(), contributions.flatten()) / samples
        fx, fb = torch.stack([v[0] for v in values]), torch.stack([v[1] for v in values])
        return Scores(scores, delta=scores.sum(1) - (fx - fb), input_value=fx, baseline_value=fb)
