"""Plain gradient methods: Saliency and Input x Gradient (at the inputs or at a layer)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from .accumulate import RowPlan
from .base import Call, GradientMethod, Points
from .inputs import Inputs
from .result import Attribution
from .targets import TargetSpec



def _gradient_at(call: Call, x: Points, b: Points, multiply: bool) -> tuple[torch.Tensor, ...]:
    """One row per example at ``x``: the gradient, times ``x`` if ``multiply``."""
    count = call.n_examples
    examples = torch.arange(count)
    plan = RowPlan(
        examples, examples, torch.ones(count, dtype=torch.float64), count,
        points=lambda rows: tuple(p[rows] for p in x),
        multipliers=(lambda rows: tuple(p[rows] for p in x)) if multiply else None,
    )
    sums = call.run(plan, call.chunk_rows(x, b)).sums
    return tuple(s.to(p.dtype) for s, p in zip(sums, x))


class Saliency(GradientMethod):
    """The gradient of the target at the input, ``|df/dx|`` by default (Simonyan et al., 2014)."""

    name = "saliency"

    def attribute(
        self,
        inputs: Inputs,
        target: TargetSpec = None,
        *,
        abs: bool = True,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
    ) -> Attribution:
        """Gradients of ``target`` with respect to ``inputs`` (or the layer); signed with ``abs=False``."""
        return self._run(
            inputs, None, target, self._options(abs=abs), additional_forward_args=additional_forward_args,
            forward_kwargs=forward_kwargs, internal_batch_size=internal_batch_size, memory_budget=memory_budget,
        )

    def _options(self, *, abs: bool) -> dict[str, Any]:
        return {"abs": bool(abs)}

    def _attribute_points(self, call: Call, x: Points, b: Points, options: dict[str, Any]) -> Attribution:
        grads = _gradient_at(call, x, b, multiply=False)
        return Attribution(tuple(g.abs() for g in grads) if options["abs"] else grads, method=self.name)


class InputXGradient(GradientMethod):
    """``x * df/dx``: the first-order contribution of each input (or layer activation)."""

    name = "input_x_gradient"

    def attribute(
        self,
        inputs: Inputs,
        target: TargetSpec = None,
        *,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
    ) -> Attribution:
        """Inputs times the gradients of ``target`` with respect to them."""
        return self._run(
            inputs, None, target, self._options(), additional_forward_args=additional_forward_args,
            forward_kwargs=forward_kwargs, internal_batch_size=internal_batch_size, memory_budget=memory_budget,
        )

    def _options(self) -> dict[str, Any]:
        return {}

    def _attribute_points(self, call: Call, x: Points, b: Points, options: dict[str, Any]) -> Attribution:
        return Attribution(_gradient_at(call, x, b, multiply=True), method=self.name)
