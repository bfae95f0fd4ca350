"""The result of an attribution: the scores and the evidence of how they were computed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from .inputs import Inputs


@dataclass(frozen=True)
class Attribution:
    """Attributions shaped like the inputs (or the layer), with their convergence evidence.

    For the integrated-gradients family, ``delta`` is the completeness error per example,
    ``sum(attributions) - (f(input) - f(baseline))``, and ``n_steps`` the number of points the
    path integral used; ``converged`` says whether ``|delta|`` met the tolerance (``None`` when
    no tolerance was asked for). ``input_values``/``baseline_values`` are the explained scalar
    at the input and the baseline. Fields that a method cannot provide are ``None``.
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
