"""KernelSHAP (Lundberg & Lee, 2017): Shapley values as a weighted linear regression.

Shapley values are the coefficients ``phi`` of the linear model ``v(z) ~ v(none) + z . phi``
fitted with the Shapley kernel ``pi(z) = (F - 1) / (C(F, |z|) |z| (F - |z|))`` under the
constraint ``sum(phi) = v(all) - v(none)``. Coalitions are drawn from the kernel itself (a
size ``k`` with probability proportional to ``1 / (k (F - k))``, then a uniform subset of that
size), so every draw has weight 1; with ``paired=True`` each draw comes with its complement. When
``n_samples`` reaches the ``2^F - 2`` proper coalitions they are all used with their kernel
weights instead, and the fit is exactly the Shapley values. The constraint is solved exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor
from typing_extensions import Unpack

from ..inputs import BaselineSpec, Inputs
from ..options import SampledOptions
from ..result import Attribution, SurrogateFit
from ..targets import TargetSpec
from ..validation import check_optional_count, seeded_generator
from .evaluator import CoalitionEvaluator
from .method import FeatureKwargs, PerturbationMethod, Scores, pad_columns, random_subsets
from .shapley import coalition_bits
from .surrogate import sum_constrained_least_squares, weighted_r2

EXTRA_SAMPLES = 2048
"""With ``n_samples=None``, ``2 F + 2048`` coalitions per example (the default of the ``shap`` package)."""


def kernel_coalitions(n_features: int, n_samples: int, paired: bool, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Proper coalitions (neither none nor all) and their regression weights, for one example."""
    if n_features < 2:
        return torch.zeros((0, n_features), dtype=torch.bool), torch.zeros(0, dtype=torch.float64)
    if n_samples >= 2**n_features - 2:
        coalitions = coalition_bits(torch.arange(1, 2**n_features - 1), n_features)
        size = coalitions.sum(1)
        weights = torch.tensor([(n_features - 1) / (math.comb(n_features, k) * k * (n_features - k)) for k in size.tolist()], dtype=torch.float64)
        return coalitions, weights
    sizes = torch.arange(1, n_features)
    drawn = math.ceil(n_samples / 2) if paired else n_samples
    chosen = sizes[torch.multinomial(1 / (sizes * (n_features - sizes)).double(), drawn, replacement=True, generator=generator)]
    coalitions = random_subsets(chosen, n_features, generator)
    if paired:
        coalitions = torch.stack([coalitions, ~coalitions], 1).reshape(-1, n_features)[:n_samples]
    return coalitions, torch.ones(n_samples, dtype=torch.float64)


@dataclass(frozen=True)
class KernelShapOptions(SampledOptions):
    """KernelSHAP's options: ``n_samples`` coalitions per example (``None``: ``2 F + 2048``), ``paired`` draws, the ``seed`` used."""

    n_samples: int | None = None
    paired: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        check_optional_count("n_samples", self.n_samples)
        object.__setattr__(self, "paired", bool(self.paired))


class KernelShap(PerturbationMethod[KernelShapOptions]):
    """Shapley values estimated by the Shapley-kernel regression, efficiency enforced exactly.

    ``n_samples`` proper coalitions per example (``None``: ``2 F + 2048``); exact when it reaches
    ``2^F - 2``. Repeated coalitions are evaluated once. ``extras.fit.r2`` is the weighted R^2 of
    each example's fit (how linear the model looks on these coalitions) and ``settings.seed``
    the seed used. ``delta`` is ``sum(phi) - (f(x) - f(baseline))``, zero up to rounding.
    """

    name = "kernel_shap"
    options_type = KernelShapOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_samples: int | None = None,
        paired: bool = True,
        seed: int | None = None,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """KernelSHAP values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        return self._run(inputs, baselines, target, self.make_options(n_samples=n_samples, paired=paired, seed=seed), common)

    def _scores(self, evaluator: CoalitionEvaluator, options: KernelShapOptions) -> Scores:
        counts, width = evaluator.features.counts, evaluator.features.width
        generator = seeded_generator(options.seed)
        samples = [options.n_samples or 2 * int(f) + EXTRA_SAMPLES for f in counts]
        drawn = [kernel_coalitions(int(f), n, options.paired, generator) for f, n in zip(counts, samples)]
        blocks = [pad_columns(torch.cat([torch.ones((1, z.shape[1]), dtype=torch.bool), torch.zeros((1, z.shape[1]), dtype=torch.bool), z]), width) for z, _ in drawn]
        sizes = torch.tensor([b.shape[0] for b in blocks])
        values = evaluator.evaluate(torch.arange(counts.shape[0]).repeat_interleave(sizes), torch.cat(blocks)).split(sizes.tolist())
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        r2 = torch.full((counts.shape[0],), float("nan"), dtype=torch.float64)
        for example, ((z, weights), v) in enumerate(zip(drawn, values)):
            design, gain = z.double(), v[2:] - v[1]
            if design.shape[0] == 0:
                scores[example, : z.shape[1]] = v[0] - v[1]
                continue
            phi = sum_constrained_least_squares(design, gain, weights, v[0] - v[1])
            scores[example, : z.shape[1]] = phi
            r2[example] = weighted_r2(gain, design @ phi, weights)
        fx, fb = torch.stack([v[0] for v in values]), torch.stack([v[1] for v in values])
        return Scores(scores, delta=scores.sum(1) - (fx - fb), input_value=fx, baseline_value=fb, fit=SurrogateFit(r2))
