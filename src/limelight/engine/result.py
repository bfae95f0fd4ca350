"""The result of an attribution: the scores and the evidence of how they were computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from .inputs import Inputs


@dataclass(frozen=True)
class Attribution:
    """Attributions shaped like the inputs (or the layer), with their evidence.

    ``delta`` is the completeness (efficiency) error per example,
    ``sum(attributions) - (f(input) - f(baseline))``, for methods that promise completeness:
    the integrated-gradients family (where ``n_steps`` is the number of points the path integral
    used and ``converged`` whether ``|delta|`` met the tolerance), GradientSHAP (a Monte-Carlo
    check) and the Shapley-value methods (exact Shapley: rounding only). ``input_values`` and
    ``baseline_values`` are the explained scalar at the input and the baseline. ``extras`` holds
    method-specific evidence (per-feature scores, surrogate fit, the nodes of an adaptive path).
    Fields that a method cannot provide are ``None``.
    """

    attributions: Inputs
    method: str
    delta: Tensor | None = None
    n_steps: Tensor | None = None
    input_values: Tensor | None = None
    baseline_values: Tensor | None = None
    converged: Tensor | None = None
    tolerance: float | None = None
    rule: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
