"""Exact Shapley values by enumerating every coalition.

``phi_j = sum_{S not containing j} |S|! (F - |S| - 1)! / F! * (v(S + j) - v(S))``. All ``2^F``
coalitions of an example are evaluated once; ``phi = v @ M`` with a fixed ``(2^F, F)`` matrix
``M`` whose columns carry the weights, with signs, of the coalitions that contain ``j`` and of
those that do not. Each row of ``M`` sums to 0 except the full (+1) and empty (-1) coalitions,
so efficiency, ``sum(phi) = v(all) - v(none)``, holds up to float rounding.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from typing_extensions import Unpack

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..inputs import BaselineSpec, Inputs
from ..result import Attribution
from ..targets import TargetSpec
from .evaluator import CoalitionEvaluator
from .features import Features
from .method import PerturbationOptions, PerturbationMethod, Scores, check_count, positions_in_groups

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


class ShapleyValues(PerturbationMethod):
    """Exact Shapley values (Shapley, 1953) for up to ``max_features`` features per example.

    Costs ``2^F`` rows per example. ``delta`` is ``sum(phi) - (f(x) - f(baseline))``, zero up to
    rounding; ``input_values`` and ``baseline_values`` are ``f`` with all and with no features.
    For more features use :class:`ShapleyValueSampling` or :class:`KernelShap`, or group
    elements into fewer features with ``feature_mask``.
    """

    name = "shapley_values"

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        max_features: int = DEFAULT_MAX_FEATURES,
        **common: Unpack[PerturbationOptions],
    ) -> Attribution:
        """Exact Shapley values of the features of ``inputs`` (see :class:`PerturbationMethod`)."""
        return self._run(
            inputs, baselines, target, {"max_features": check_count("max_features", max_features)},
            **common,
        )

    def _prepare(self, features: Features, options: dict[str, Any]) -> dict[str, Any]:
        limit = options["max_features"]
        if features.width > limit:
            example = int(features.counts.argmax())
            raise InvalidInputError(
                f"example {example} has {features.width} features: exact Shapley values would evaluate 2^{features.width} = "
                f"{2 ** features.width} perturbed inputs per example (the limit is max_features={limit}). Use "
                "ShapleyValueSampling or KernelShap, group elements into fewer features with feature_mask, or raise max_features"
            )
        return options

    def _scores(self, evaluator: CoalitionEvaluator, options: dict[str, Any]) -> Scores:
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
        return Scores(scores, delta=scores.sum(1) - (fx - fb), input_values=fx, baseline_values=fb)
