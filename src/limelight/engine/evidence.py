"""The evidence of how an attribution was computed: one record shared by every result type.

The engine's :class:`~limelight.engine.result.Attribution` carries a :data:`BatchEvidence` (one
value per example, as tensors); a front end's per-example result (e.g. a text ``Explanation``)
carries that example's :data:`ExampleEvidence`, obtained with :meth:`Evidence.row` (Python
scalars). A field a method cannot provide is ``None``.

- ``delta``: the completeness (efficiency) error ``sum(attributions) - (f(input) - f(baseline))``,
  for methods that promise completeness (integrated gradients, GradientSHAP, Shapley values).
- ``input_value`` / ``baseline_value``: the explained scalar at the input and at the baseline.
- ``n_steps``: the number of path points an integral used (integrated-gradients family).
- ``converged``: whether ``|delta|`` met ``tolerance``.
- ``tolerance``: the completeness tolerance aimed for (one number for the whole batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from torch import Tensor

Value = TypeVar("Value", Tensor, float)
Count = TypeVar("Count", Tensor, int)
Flag = TypeVar("Flag", Tensor, bool)


@dataclass(frozen=True)
class Evidence(Generic[Value, Count, Flag]):
    """Completeness evidence: per example as tensors (:data:`BatchEvidence`) or scalars (:data:`ExampleEvidence`)."""

    delta: Value | None = None
    input_value: Value | None = None
    baseline_value: Value | None = None
    n_steps: Count | None = None
    converged: Flag | None = None
    tolerance: float | None = None

    def row(self: Evidence[Tensor, Tensor, Tensor], i: int) -> Evidence[float, int, bool]:
        """Example ``i``'s evidence as Python scalars (``None`` stays ``None``)."""
        return Evidence(
            delta=None if self.delta is None else float(self.delta[i]),
            input_value=None if self.input_value is None else float(self.input_value[i]),
            baseline_value=None if self.baseline_value is None else float(self.baseline_value[i]),
            n_steps=None if self.n_steps is None else int(self.n_steps[i]),
            converged=None if self.converged is None else bool(self.converged[i]),
            tolerance=self.tolerance,
        )


BatchEvidence = Evidence[Tensor, Tensor, Tensor]
"""One value per example, as 1-D tensors of length ``N`` (what :class:`Attribution` carries)."""

ExampleEvidence = Evidence[float, int, bool]
"""One example's evidence as Python scalars (what per-example result types carry)."""
