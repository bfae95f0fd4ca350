"""LIME (Ribeiro et al., 2016): a weighted linear surrogate of the model around the input.

Coalitions ``z`` are drawn uniformly (each feature present with probability 1/2), plus the input
itself (all present). Each is weighted by ``exp(-d(z, 1)^2 / kernel_width^2)``, its proximity to
the input in the interpretable space, with ``d`` the cosine distance ``1 - sqrt(|z| / F)`` or the
euclidean distance ``sqrt(F - |z|)``. A ridge regression with an unpenalised intercept fits
``f`` on ``z``; the coefficients are the scores.
"""

from __future__ import annotations

from typing import Any

from typing_extensions import Unpack

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..inputs import BaselineSpec, Inputs
from ..result import Attribution
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator
from .method import PerturbationOptions, PerturbationMethod, Scores, check_count, pad_columns, resolve_seed
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


class Lime(PerturbationMethod):
    """LIME scores: the coefficients of a locally weighted ridge surrogate over feature coalitions.

    ``n_samples`` coalitions per example, the input itself included (repeats are evaluated once);
    ``distance`` ``"cosine"`` (default) or ``"euclidean"``, ``kernel_width`` the kernel's width in
    that distance; ``alpha`` the ridge penalty (0 for ordinary weighted least squares).
    ``extras["r2"]`` is each fit's weighted R^2, ``extras["intercept"]`` its intercept,
    ``extras["seed"]`` the seed used. LIME promises no efficiency, so ``delta`` is ``None``.
    """

    name = "lime"

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
        **common: Unpack[PerturbationOptions],
    ) -> Attribution:
        """LIME scores of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        if distance not in DISTANCES:
            raise InvalidInputError(f"distance must be one of {DISTANCES}, got {distance!r}")
        for name, value, smallest in (("kernel_width", kernel_width, "positive"), ("alpha", alpha, "non-negative")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (value > 0 if smallest == "positive" else value >= 0):
                raise InvalidInputError(f"{name} must be a {smallest} number, got {value!r}")
        options = {
            "n_samples": check_count("n_samples", n_samples, minimum=2), "distance": distance,
            "kernel_width": float(kernel_width), "alpha": float(alpha), "seed": resolve_seed(seed),
        }
        return self._run(
            inputs, baselines, target, options, **common,
        )

    def _scores(self, evaluator: CoalitionEvaluator, options: dict[str, Any]) -> Scores:
        counts, width, samples = evaluator.features.counts, evaluator.features.width, options["n_samples"]
        generator = torch.Generator().manual_seed(options["seed"])
        drawn = [torch.cat([torch.ones((1, int(f)), dtype=torch.bool), torch.rand((samples - 1, int(f)), generator=generator) < 0.5]) for f in counts]
        values = evaluator.evaluate(torch.arange(counts.shape[0]).repeat_interleave(samples), torch.cat([pad_columns(z, width) for z in drawn]))
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        r2, intercepts = torch.empty(counts.shape[0], dtype=torch.float64), torch.empty(counts.shape[0], dtype=torch.float64)
        for example, (z, v) in enumerate(zip(drawn, values.split(samples))):
            design, weights = z.double(), proximity(z, options["distance"], options["kernel_width"])
            coefficients, intercepts[example] = ridge_with_intercept(design, v, weights, options["alpha"])
            scores[example, : z.shape[1]] = coefficients
            r2[example] = weighted_r2(v, intercepts[example] + design @ coefficients, weights)
        fx = values.reshape(-1, samples)[:, 0]
        return Scores(scores, input_values=fx, extras={"r2": r2, "intercept": intercepts, "seed": options["seed"]})
