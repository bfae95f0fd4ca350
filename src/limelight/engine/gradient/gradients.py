"""Plain gradient methods: Saliency and Input x Gradient (at the inputs or at a layer)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from typing_extensions import Unpack

from ..accumulate import RowPlan
from ..inputs import Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from .method import Call, GradientMethod, Points


def _gradient_at(call: Call, x: Points, b: Points, multiply: bool) -> tuple[torch.Tensor, ...]:
    """One row per example at ``x``: the gradient, times ``x`` if ``multiply``."""
    count = call.n_examples
    examples = torch.arange(count)
    plan = RowPlan(
        examples,
        examples,
        torch.ones(count, dtype=torch.float64),
        count,
        points=lambda rows: tuple(p[rows] for p in x),
        multipliers=(lambda rows: tuple(p[rows] for p in x)) if multiply else None,
    )
    sums = call.run(plan, call.chunk_rows(x, b)).gradient_sums
    return tuple(s.to(p.dtype) for s, p in zip(sums, x))


@dataclass(frozen=True)
class SaliencyOptions(MethodOptions):
    """Saliency's options: the gradient's absolute value (``abs=True``) or its sign."""

    abs: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "abs", bool(self.abs))


class Saliency(GradientMethod[SaliencyOptions]):
    """The gradient of the target at the input, ``|df/dx|`` by default (Simonyan et al., 2014)."""

    name = "saliency"
    options_type = SaliencyOptions

    def attribute(self, inputs: Inputs, target: TargetSpec = None, *, abs: bool = True, **common: Unpack[CommonKwargs]) -> Attribution:
        """Gradients of ``target`` with respect to ``inputs`` (or the layer); signed with ``abs=False``."""
        return self.run(inputs, None, target, self.make_options(abs=abs), common)

    def attribute_points(self, call: Call, x: Points, b: Points, options: SaliencyOptions) -> Attribution:
        grads = _gradient_at(call, x, b, multiply=False)
        return Attribution(tuple(g.abs() for g in grads) if options.abs else grads, method=self.name, settings=options)


class InputXGradient(GradientMethod[MethodOptions]):
    """``x * df/dx``: the first-order contribution of each input (or layer activation)."""

    name = "input_x_gradient"
    options_type = MethodOptions

    def attribute(self, inputs: Inputs, target: TargetSpec = None, **common: Unpack[CommonKwargs]) -> Attribution:
        """Inputs times the gradients of ``target`` with respect to them."""
        return self.run(inputs, None, target, self.make_options(), common)

    def attribute_points(self, call: Call, x: Points, b: Points, options: MethodOptions) -> Attribution:
        return Attribution(_gradient_at(call, x, b, multiply=True), method=self.name, settings=options)
