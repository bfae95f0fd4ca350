"""Integrated Gradients and Layer Integrated Gradients.

``IG_i(x) = (x_i - b_i) * integral_0^1 df/dx_i(b + a (x - b)) da``. The integral is a quadrature
over rows ``(example, node)`` that are evaluated in chunks; gradients are averaged with the rule's
weights and multiplied by ``x - b`` once at the end. With ``n_steps="auto"`` each example's path
is refined where it is wrong until its completeness delta meets the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..convergence import completeness_delta, warn_unconverged, within_tolerance
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs
from ..names import RULE_KEYWORD_ALIAS
from ..options import CommonKwargs, MethodOptions
from ..result import AdaptiveExtras, Attribution
from ..spaces import Space
from ..targets import TargetSpec
from ..validation import check_count, check_tolerance
from .adaptive import integrate
from .layers import LayerSpec, SwappedLayers, as_layers
from .method import Call, GradientMethod, Points
from .paths import path_plan, scale
from .quadrature import ADAPTIVE_RULE, DEFAULT_RULE, MAX_FIXED_STEPS, fixed_rule

Steps = int | Literal["auto"]


@dataclass(frozen=True)
class IntegratedGradientsOptions(MethodOptions):
    """Integrated gradients' options: ``n_steps`` nodes of ``rule``, or ``n_steps="auto"`` with its limits.

    Built by :meth:`IntegratedGradients.make_options`, which picks the rule when it is left unset
    (``"gausslegendre"``, or ``"adaptive_trapezoid"`` for ``n_steps="auto"``).
    """

    n_steps: Steps = 50
    rule: str = DEFAULT_RULE
    tolerance: float | None = 1e-2
    min_steps: int = 5
    max_steps: int = 257
    multiply_by_inputs: bool = True

    def __post_init__(self) -> None:
        check_tolerance(self.tolerance)
        object.__setattr__(self, "multiply_by_inputs", bool(self.multiply_by_inputs))
        if self.n_steps == "auto":
            if not self.multiply_by_inputs:
                raise InvalidInputError(
                    "n_steps='auto' refines the path until the attributions add up, which needs multiply_by_inputs=True"
                )
            if self.rule != ADAPTIVE_RULE:
                raise InvalidInputError(
                    f"n_steps='auto' refines nested grids with the {ADAPTIVE_RULE!r} rule; leave rule unset (got {self.rule!r})"
                )
            if self.tolerance is None:
                raise InvalidInputError("n_steps='auto' needs a tolerance to aim for, e.g. tolerance=1e-2")
            check_count("min_steps", self.min_steps, minimum=2)
            check_count("max_steps", self.max_steps, minimum=2)
            if self.max_steps > MAX_FIXED_STEPS:
                raise InvalidInputError(
                    f"max_steps={self.max_steps} is more than the {MAX_FIXED_STEPS} path points limelight evaluates; lower it"
                )
            if self.max_steps < self.min_steps:
                raise InvalidInputError(f"max_steps ({self.max_steps}) must be at least min_steps ({self.min_steps})")
            return
        fixed_rule(self.rule, self.n_steps)  # validates the rule, and n_steps for it


class IntegratedGradients(GradientMethod[IntegratedGradientsOptions]):
    """Integrated Gradients (Sundararajan et al., 2017) with exact-sum rules and adaptive steps.

    Use ``n_steps`` nodes of ``rule`` (``"gausslegendre"`` by default; also ``"riemann_left"``,
    ``"riemann_right"``, ``"riemann_middle"``, ``"riemann_trapezoid"``; Captum's spelling
    ``method=`` is accepted for ``rule=``), or ``n_steps="auto"`` to refine each example
    (trapezoid panels from ``min_steps`` nodes, bisected where their own completeness error is
    largest, up to ``max_steps`` nodes) until ``|delta| <= tolerance * |f(x) - f(b)| + 1e-4``.
    Every result carries ``delta`` and ``n_steps`` per example; examples over the tolerance
    raise a :class:`~limelight.errors.ConvergenceWarning`. ``multiply_by_inputs=False``
    (Captum's constructor argument) gives the mean path gradient without the ``(x - b)``
    factor; it does not add up, so there is no delta (and no ``n_steps="auto"``).
    """

    name = "integrated_gradients"
    options_type = IntegratedGradientsOptions

    def __init__(self, forward: Any, layer: nn.Module | None = None, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, **kwargs)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_steps: Steps = 50,
        rule: str | None = None,
        tolerance: float | None = 1e-2,
        min_steps: int = 5,
        max_steps: int = 257,
        layer_baselines: BaselineSpec = None,
        method: str | None = None,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Attribute ``target`` to ``inputs`` (or to the layer) relative to ``baselines`` (zeros by default)."""
        captum = {} if method is None else {RULE_KEYWORD_ALIAS: method}
        options = self.make_options(n_steps=n_steps, rule=rule, tolerance=tolerance, min_steps=min_steps, max_steps=max_steps, **captum)
        return self.run(inputs, baselines, target, options, common, layer_baselines=layer_baselines)

    def make_options(self, **given: Any) -> IntegratedGradientsOptions:
        """Options with Captum's ``method=`` read as ``rule=`` and an unset rule chosen for ``n_steps``."""
        if RULE_KEYWORD_ALIAS in given:
            alias = given.pop(RULE_KEYWORD_ALIAS)
            if given.get("rule") is not None and alias is not None:
                raise InvalidInputError(
                    f"pass the integration rule once: rule={given['rule']!r} or {RULE_KEYWORD_ALIAS}={alias!r} (Captum's name), not both"
                )
            given["rule"] = given.get("rule") or alias
        if given.get("rule") is None:
            given["rule"] = ADAPTIVE_RULE if given.get("n_steps") == "auto" else DEFAULT_RULE
        given.setdefault("multiply_by_inputs", self.multiply_by_inputs)
        return super().make_options(**given)

    def attribute_points(self, call: Call, x: Points, b: Points, options: IntegratedGradientsOptions) -> Attribution:
        chunk = call.chunk_rows(x, b)
        if options.n_steps == "auto":
            result = _adaptive(call, x, b, chunk, options)
            advice = f"Raise max_steps (now {options.max_steps}) or loosen tolerance."
        else:
            result = _fixed(call, x, b, chunk, options)
            advice = "Use more steps or n_steps='auto'."
        _warn_unconverged(result, advice)
        return result


class LayerIntegratedGradients(IntegratedGradients):
    """Integrated Gradients in the space of ``layer``'s output (or its inputs), or of several layers at once.

    Baselines are given in input space (e.g. PAD token ids; they pass through the model up to the
    layer, which stops the forward there) or directly at the layer with ``layer_baselines``;
    by default the layer baseline is zero. Rows feed the model the example's own inputs and
    swap the layer's value for the path point, so everything outside the layer (position and
    token-type embeddings, attention masks) stays as in the input.

    ``layer`` may be a list of layers that each give one tensor: every row swaps all of them in
    one forward, ``attributions`` has one tensor per layer (in order) and ``delta`` is the
    completeness error of their sum. The layers should not feed one another (a swapped layer
    cuts the gradient path through the layers before it), as in Captum.
    """

    name = "layer_integrated_gradients"

    def __init__(self, forward: Any, layer: LayerSpec, **kwargs: Any) -> None:
        if layer is None:
            raise InvalidInputError("LayerIntegratedGradients needs a layer; use IntegratedGradients for the inputs")
        self.layers = as_layers(layer, type(self).__name__)
        super().__init__(forward, self.layers[0], **kwargs)

    def attribution_space(self, inputs: Points) -> Space:
        if len(self.layers) == 1:
            return super().attribution_space(inputs)
        return SwappedLayers(self.layers[0], inputs, self.attribute_to_layer_input, self.layers)


def _endpoint_values(call: Call, x: Points, b: Points, chunk: int, examples: Tensor) -> tuple[Tensor, Tensor]:
    """``f(x)`` and ``f(b)`` for the given examples, with one forward (no gradients) over both."""
    k = examples.shape[0]
    plan = path_plan(
        x, b, examples.repeat(2), torch.cat([torch.ones(k), torch.zeros(k)]).double(), torch.ones(2 * k), torch.arange(2 * k), 2 * k
    )
    values = call.run(plan, chunk, grad=False).values
    return values[:k], values[k:]


def _fixed(call: Call, x: Points, b: Points, chunk: int, options: IntegratedGradientsOptions) -> Attribution:
    n, rule = int(options.n_steps), options.rule
    alphas_np, weights_np = fixed_rule(rule, n)
    count = call.n_examples
    examples = torch.arange(count).repeat_interleave(n)
    alphas = torch.from_numpy(alphas_np).repeat(count)
    weights = torch.from_numpy(weights_np).repeat(count)
    accumulated = call.run(path_plan(x, b, examples, alphas, weights, examples, count), chunk)
    sums = accumulated.gradient_sums
    attributions = scale(x, b, sums) if options.multiply_by_inputs else tuple(g.to(xi.dtype) for g, xi in zip(sums, x))
    fx, fb = _values_at_ends(call, x, b, chunk, accumulated.values.reshape(count, n), alphas_np)
    return _result(attributions, fx, fb, torch.full((count,), n), options)


def _values_at_ends(call: Call, x: Points, b: Points, chunk: int, path_values: Tensor, alphas: np.ndarray) -> tuple[Tensor, Tensor]:
    """Reuse the path's values at alpha 0 and 1 when the rule has those nodes; compute the rest."""
    known = {float(a): path_values[:, i] for i, a in enumerate(alphas) if a in (0.0, 1.0)}
    if 1.0 in known and 0.0 in known:
        return known[1.0], known[0.0]
    fx, fb = _endpoint_values(call, x, b, chunk, torch.arange(call.n_examples))
    return known.get(1.0, fx), known.get(0.0, fb)


def _result(
    attributions: tuple[Tensor, ...],
    fx: Tensor,
    fb: Tensor,
    steps: Tensor,
    options: IntegratedGradientsOptions,
    converged: Tensor | None = None,
) -> Attribution:
    if not options.multiply_by_inputs:  # mean gradients: nothing to add up
        evidence = Evidence(input_value=fx, baseline_value=fb, n_steps=steps)
        return Attribution(attributions, method="", evidence=evidence, settings=options)
    delta = completeness_delta(attributions, fx - fb)
    tolerance = options.tolerance
    if converged is None and tolerance is not None:
        converged = within_tolerance(delta, fx - fb, tolerance)
    evidence = Evidence(delta=delta, input_value=fx, baseline_value=fb, n_steps=steps, converged=converged, tolerance=tolerance)
    return Attribution(attributions, method="", evidence=evidence, settings=options)


def _warn_unconverged(result: Attribution, advice: str) -> None:
    """One warning naming the examples over the tolerance (when there is one)."""
    e = result.evidence
    if (
        e.converged is not None
        and e.delta is not None
        and e.input_value is not None
        and e.baseline_value is not None
        and e.tolerance is not None
    ):
        warn_unconverged(e.converged, e.delta, e.input_value - e.baseline_value, e.tolerance, advice)


def _adaptive(call: Call, x: Points, b: Points, chunk: int, options: IntegratedGradientsOptions) -> Attribution:
    """Adaptive panels per example (see :mod:`limelight.engine.gradient.adaptive`)."""
    outcome = integrate(call, x, b, chunk, float(options.tolerance or 0.0), options.min_steps, options.max_steps)
    result = _result(outcome.attributions, outcome.input_value, outcome.baseline_value, outcome.n_steps, options, outcome.converged)
    return replace(result, extras=AdaptiveExtras(outcome.alphas))
