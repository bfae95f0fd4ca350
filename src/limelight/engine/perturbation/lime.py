"""LIME (Ribeiro et al., 2016): a weighted linear surrogate of the model around the input.

Coalitions ``z`` are drawn uniformly (each feature present with probability 1/2), plus the input
itself (all present). Each is weighted by ``exp(-d(z, 1)^2 / kernel_width^2)``, its proximity to
the input in the interpretable space, with ``d`` the cosine distance ``1 - sqrt(|z| / F)`` or the
euclidean distance ``sqrt(F - |z|)``. A ridge regression with an unpenalised intercept fits
``f`` on ``z``; the coefficients are the scores.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from typing_extensions import Unpack

from ..inputs import BaselineSpec, Inputs
from ..options import SampledOptions
from ..result import Attribution, SurrogateFit
from ..targets import TargetSpec
from ..validation import check_choice, check_count, check_positive, seeded_generator
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, pad_columns
from .surrogate import ridge_with_intercept, weighted_r2

DISTANCES = ("cosine", "euclidean")


def proximity(coalitions: Tensor, distance: str, kernel_width: float) -> Tensor:
    """The exponential kernel of each coalition's distance to the all-present one."""
    present, n_features = coalitions.sum(1).double(), coalitions.shape[1]
    if distance == "cosine":
        gap = 1 - (present / n_features).sqrt()
    else:
        gap = (n_features - present).sqrt()
    return torch.exp(-(gap**2) / kernel_width**2)


@dataclass(frozen=True)
class LimeOptions(SampledOptions):
    """LIME's options: ``n_samples`` coalitions, the proximity kernel (``distance``, ``kernel_width``), the ridge ``alpha``, the ``seed`` used."""

    n_samples: int = 1000
    distance: str = "cosine"
    kernel_width: float = 0.35
    alpha: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice("distance", self.distance, DISTANCES)
        object.__setattr__(self, "kernel_width", check_positive("kernel_width", self.kernel_width))
        object.__setattr__(self, "alpha", check_positive("alpha", self.alpha, allow_zero=True))
        check_count("n_samples", self.n_samples, minimum=2)


class Lime(PerturbationMethod[LimeOptions]):
    """LIME scores: the coefficients of a locally weighted ridge surrogate over feature coalitions.

    ``n_samples`` coalitions per example, the input itself included (repeats are evaluated once);
    ``distance`` ``"cosine"`` (default) or ``"euclidean"``, ``kernel_width`` the kernel's width in
    that distance; ``alpha`` the ridge penalty (0 for ordinary weighted least squares).
    ``extras.fit`` holds each fit's weighted R^2 and intercept, ``settings.seed`` the seed used. LIME promises no efficiency, so ``delta`` is ``None``.
    """

    name = "lime"
    options_type = LimeOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_samples: int = 1000,
        distance: str = "cosine",
        kernel_width: float = 0.35,
        alpha: float = 1.0,
        seed: int | None = None,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """LIME scores of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        options = self.make_options(n_samples=n_samples, distance=distance, kernel_width=kernel_width, alpha=alpha, seed=seed)
        return self._run(inputs, baselines, target, options, common)

    def _scores(self, evaluator: CoalitionEvaluator, options: LimeOptions) -> Scores:
        counts, width, samples = evaluator.features.counts, evaluator.features.width, options.n_samples
        generator = seeded_generator(options.seed)
        drawn = [
            torch.cat([torch.ones((1, int(f)), dtype=torch.bool), torch.rand((samples - 1, int(f)), generator=generator) < 0.5])
            for f in counts
        ]
        values = evaluator.evaluate(
            torch.arange(counts.shape[0]).repeat_interleave(samples), torch.cat([pad_columns(z, width) for z in drawn])
        )
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        r2, intercepts = torch.empty(counts.shape[0], dtype=torch.float64), torch.empty(counts.shape[0], dtype=torch.float64)
        for example, (z, v) in enumerate(zip(drawn, values.split(samples))):
            design, weights = z.double(), proximity(z, options.distance, options.kernel_width)
            coefficients, intercepts[example] = ridge_with_intercept(design, v, weights, options.alpha)
            scores[example, : z.shape[1]] = coefficients
            r2[example] = weighted_r2(v, intercepts[example] + design @ coefficients, weights)
        fx = values.reshape(-1, samples)[:, 0]
        return Scores(scores, input_value=fx, fit=SurrogateFit(r2, intercepts))
