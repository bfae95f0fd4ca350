"""Exact Shapley values by enumerating every coalition.

``phi_j = sum_{S not containing j} |S|! (F - |S| - 1)! / F! * (v(S + j) - v(S))``. All ``2^F``
coalitions of an example are evaluated once; ``phi = v @ M`` with a fixed ``(2^F, F)`` matrix
``M`` whose columns carry the weights, with signs, of the coalitions that contain ``j`` and of
those that do not. Each row of ``M`` sums to 0 except the full (+1) and empty (-1) coalitions,
so efficiency, ``sum(phi) = v(all) - v(none)``, holds up to float rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..inputs import BaselineSpec, Inputs
from ..options import MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_count
from .evaluator import CoalitionEvaluator
from .features import Features
from .method import FeatureKwargs, PerturbationMethod, Scores, positions_in_groups

DEFAULT_MAX_FEATURES = 12


@lru_cache(maxsize=32)
def shapley_matrix(n_features: int) -> Tensor:
    """``M`` with ``phi = values @ M`` for the values of coalitions ``0..2^F-1`` (bit ``j`` = feature ``j``)."""
    codes = torch.arange(2**n_features)
    members = (codes[:, None] >> torch.arange(n_features)) & 1 == 1
    size = members.sum(1)
    # weight of a coalition S of size k that does not contain j: k! (F - k - 1)! / F!
    weight = torch.tensor([1 / (n_features * math.comb(n_features - 1, k)) for k in range(n_features)], dtype=torch.float64)
    with_j = weight[(size - 1).clamp(min=0)]  # S + j has this size: S has one less
    without_j = weight[size.clamp(max=n_features - 1)]
    return torch.where(members, with_j[:, None], -without_j[:, None])


def coalition_bits(codes: Tensor, width: int) -> Tensor:
    """Coalitions from their integer codes: bit ``j`` says whether feature ``j`` is present."""
    return (codes[:, None] >> torch.arange(width)) & 1 == 1


@dataclass(frozen=True)
class ShapleyValuesOptions(MethodOptions):
    """Exact Shapley values' options: the most features per example (``2^F`` rows each)."""

    max_features: int = DEFAULT_MAX_FEATURES

    def __post_init__(self) -> None:
        check_count("max_features", self.max_features)


class ShapleyValues(PerturbationMethod[ShapleyValuesOptions]):
    """Exact Shapley values (Shapley, 1953) for up to ``max_features`` features per example.

    Costs ``2^F`` rows per example. ``delta`` is ``sum(phi) - (f(x) - f(baseline))``, zero up to
    rounding; ``input_value`` and ``baseline_value`` are ``f`` with all and with no features.
    For more features use :class:`ShapleyValueSampling` or :class:`KernelShap`, or group
    elements into fewer features with ``feature_mask``.
    """

    name = "shapley_values"
    options_type = ShapleyValuesOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        max_features: int = DEFAULT_MAX_FEATURES,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """Exact Shapley values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        return self._run(inputs, baselines, target, self.make_options(max_features=max_features), common)

    def _prepare(self, features: Features, options: ShapleyValuesOptions) -> ShapleyValuesOptions:
        limit = options.max_features
        if features.width > limit:
            example = int(features.counts.argmax())
            raise InvalidInputError(
                f"example {example} has {features.width} features: exact Shapley values would evaluate 2^{features.width} = "
                f"{2**features.width} perturbed inputs per example (the limit is max_features={limit}). Use "
                "ShapleyValueSampling or KernelShap, group elements into fewer features with feature_mask, or raise max_features"
            )
        return options

    def _scores(self, evaluator: CoalitionEvaluator, options: ShapleyValuesOptions) -> Scores:
        counts, width = evaluator.features.counts, evaluator.features.width
        sizes = 2**counts
        codes = positions_in_groups(sizes)
        values = evaluator.lazy(torch.arange(counts.shape[0]).repeat_interleave(sizes), lambda rows: coalition_bits(codes[rows], width))
        starts = sizes.cumsum(0) - sizes
        scores = torch.zeros((counts.shape[0], width), dtype=torch.float64)
        fx, fb = torch.empty(counts.shape[0], dtype=torch.float64), torch.empty(counts.shape[0], dtype=torch.float64)
        for n_features in counts.unique().tolist():
            members = (counts == n_features).nonzero().flatten()
            block = values[starts[members, None] + torch.arange(2**n_features)]
            scores[members, :n_features] = block @ shapley_matrix(n_features)
            fx[members], fb[members] = block[:, -1], block[:, 0]
        return Scores(scores, delta=scores.sum(1) - (fx - fb), input_value=fx, baseline_value=fb)
