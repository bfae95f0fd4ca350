"""Layer conductance and internal influence: integrals along the input path, read at a layer.

Both walk the straight input path ``b + a (x - b)`` and take the gradient of the target at the
layer's value ``y(a)`` on the way.

- Internal influence (Leino et al., 2018): ``integral_0^1 dF/dy(a) da`` by the quadrature ``rule``.
- Conductance (Dhamdhere et al., 2018): ``integral_0^1 dF/dy(a) * dy/da da``, as Captum computes
  it: ``sum_k dF/dy(a_k) * (y(a_{k+1}) - y(a_k))`` over the ``n_steps + 1`` nodes of ``rule``.
  Each neuron's conductance is the part of the inputs' integrated gradients that flows through
  it, so the conductances of a layer that every path from the inputs to the output crosses add
  up to ``F(x) - F(b)``; ``delta`` measures how far they are from it (the discretisation error:
  rules with both ends, ``"riemann_trapezoid"``, telescope ``y`` exactly, more steps shrink the
  rest; or the part that bypasses the layer through a skip connection or a parallel branch).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..convergence import completeness_delta, warn_unconverged, within_tolerance
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs
from ..names import RULE_KEYWORD_ALIAS
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from ..targets import TargetSpec
from ..validation import check_tolerance, is_int
from .integrated_gradients import _endpoint_values
from .layer_methods import ThroughLayerMethod
from .layers import flat
from .method import Call, Points
from .paths import path_plan
from .quadrature import DEFAULT_RULE, fixed_rule


@dataclass(frozen=True)
class LayerPathOptions(MethodOptions):
    """A fixed path rule: ``n_steps`` nodes of ``rule`` and the completeness ``tolerance`` (conductance)."""

    n_steps: int = 50
    rule: str = DEFAULT_RULE
    tolerance: float | None = 1e-2

    def __post_init__(self) -> None:
        check_tolerance(self.tolerance)
        if not is_int(self.n_steps):
            raise InvalidInputError(f"n_steps must be a positive int (this method has no adaptive mode), got {self.n_steps!r}")
        fixed_rule(self.rule, self.n_steps)


def path_options(method: str, n_steps: Any, rule: str | None, captum_method: str | None, tolerance: Any) -> LayerPathOptions:
    """Options with Captum's ``method=`` read as ``rule=`` (given once)."""
    if rule is not None and captum_method is not None:
        raise InvalidInputError(f"pass the integration rule once: rule={rule!r} or {RULE_KEYWORD_ALIAS}={captum_method!r}, not both")
    chosen = rule or captum_method or DEFAULT_RULE
    return LayerPathOptions.build({"n_steps": n_steps, "rule": chosen, "tolerance": tolerance}, method)


class InternalInfluence(ThroughLayerMethod[LayerPathOptions]):
    """The mean gradient of the target at a layer along the input path (Leino et al., 2018).

    ``n_steps`` nodes of ``rule`` (``"gausslegendre"``, or a Riemann rule; Captum's ``method=``
    is accepted). Not additive, so there is no delta.
    """

    name = "internal_influence"
    options_type = LayerPathOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_steps: int = 50,
        rule: str | None = None,
        method: str | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """The path-averaged layer gradient of ``target`` from ``baselines`` (zeros) to ``inputs``."""
        return self.run(inputs, baselines, target, path_options(type(self).__name__, n_steps, rule, method, None), common)

    def attribute_points(self, call: Call, x: Points, b: Points, options: LayerPathOptions) -> Attribution:
        alphas, weights = (torch.from_numpy(a) for a in fixed_rule(options.rule, options.n_steps))
        count, n = call.n_examples, options.n_steps
        examples = torch.arange(count).repeat_interleave(n)
        plan = path_plan(x, b, examples, alphas.repeat(count), weights.repeat(count), examples, count)
        sums = self.gradient_sums(call, plan, call.chunk_rows(x, b), x)
        return Attribution(sums, method=self.name, evidence=Evidence(n_steps=torch.full((count,), n)), settings=options)


class LayerConductance(ThroughLayerMethod[LayerPathOptions]):
    """Conductance of every neuron of a layer (Dhamdhere et al., 2018), as Captum defines it.

    ``n_steps`` intervals between ``n_steps + 1`` nodes of ``rule`` (``"gausslegendre"`` by
    default, as Captum; ``method=`` is accepted). ``delta`` is ``sum(conductance) - (F(x) - F(b))``
    per example (``converged``: within ``tolerance``, with a
    :class:`~limelight.errors.ConvergenceWarning` otherwise).
    """

    name = "layer_conductance"
    options_type = LayerPathOptions

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_steps: int = 50,
        rule: str | None = None,
        method: str | None = None,
        tolerance: float | None = 1e-2,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Conductance of the layer's neurons for ``target`` from ``baselines`` (zeros) to ``inputs``."""
        options = path_options(type(self).__name__, n_steps, rule, method, tolerance)
        fixed_rule(options.rule, options.n_steps + 1)
        return self.run(inputs, baselines, target, options, common)

    def attribute_points(self, call: Call, x: Points, b: Points, options: LayerPathOptions) -> Attribution:
        alphas = torch.from_numpy(fixed_rule(options.rule, options.n_steps + 1)[0])
        count, n = call.n_examples, options.n_steps
        examples = torch.arange(count).repeat_interleave(n)
        steps = torch.arange(n).repeat(count)
        start = path_plan(x, b, examples, alphas[steps], torch.ones(count * n, dtype=torch.float64), examples, count)
        space = self.space()

        def increments(rows: torch.Tensor) -> Points:
            """``y(a_{k+1}) - y(a_k)`` for each row, reading every node the chunk needs once (k + 1 of a row is k of the next)."""
            nodes = torch.cat([examples[rows] * (n + 1) + steps[rows], examples[rows] * (n + 1) + steps[rows] + 1])
            unique, inverse = torch.unique(nodes, return_inverse=True)
            owners, at = unique // (n + 1), alphas[unique % (n + 1)]
            points = path_plan(x, b, owners, at, at, owners, count).points(torch.arange(unique.shape[0]))
            values = flat(space.values(call.model, points, owners))
            before, after = inverse[: rows.shape[0]], inverse[rows.shape[0] :]
            return tuple(v[after] - v[before] for v in values)

        chunk = call.chunk_rows(x, b)
        attributions = self.gradient_sums(call, replace(start, multipliers=increments), chunk, x)
        fx, fb = _endpoint_values(call, x, b, chunk, torch.arange(count))
        delta = completeness_delta(attributions, fx - fb)
        converged = None if options.tolerance is None else within_tolerance(delta, fx - fb, options.tolerance)
        if converged is not None and options.tolerance is not None:
            warn_unconverged(
                converged,
                delta,
                fx - fb,
                options.tolerance,
                (
                    "Use more steps or rule='riemann_trapezoid'. A layer that is not on every path from the inputs to the output "
                    "(a skip connection, a parallel branch) does not carry all of it, so its conductances cannot add up."
                ),
            )
        evidence = Evidence(
            delta=delta,
            input_value=fx,
            baseline_value=fb,
            n_steps=torch.full((count,), n + 1),
            converged=converged,
            tolerance=options.tolerance,
        )
        return Attribution(attributions, method=self.name, evidence=evidence, settings=options)
