"""Integrated Gradients and Layer Integrated Gradients.

``IG_i(x) = (x_i - b_i) * integral_0^1 df/dx_i(b + a (x - b)) da``. The integral is a quadrature
over rows ``(example, node)`` that are evaluated in chunks; gradients are averaged with the rule's
weights and multiplied by ``x - b`` once at the end. With ``n_steps="auto"`` each example's path
is refined where it is wrong until its completeness delta meets the tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Union

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import InvalidInputError
from .adaptive import integrate
from .base import Call, GradientMethod, Points
from .convergence import check_tolerance, completeness_delta, warn_unconverged, within_tolerance
from .inputs import BaselineSpec, Inputs
from .paths import path_plan, scale
from .quadrature import ADAPTIVE_RULE, FIXED_RULES, fixed_rule
from .result import Attribution
from .targets import TargetSpec

Steps = Union[int, Literal["auto"]]


class IntegratedGradients(GradientMethod):
    """Integrated Gradients (Sundararajan et al., 2017) with exact-sum rules and adaptive steps.

    Use ``n_steps`` nodes of ``method`` (``"gausslegendre"`` by default; also ``"riemann_left"``,
    ``"riemann_right"``, ``"riemann_middle"``, ``"riemann_trapezoid"``), or ``n_steps="auto"`` to
    refine each example (trapezoid panels from ``min_steps`` nodes, bisected where their own
    completeness error is largest, up to ``max_steps`` nodes) until
    ``|delta| <= tolerance * |f(x) - f(b)| + 1e-4``. Every result carries ``delta`` and ``n_steps``
    per example; examples over the tolerance raise a :class:`~limelight.errors.ConvergenceWarning`.
    """

    name = "integrated_gradients"

    def attribute(
        self,
        inputs: Inputs,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_steps: Steps = 50,
        method: str | None = None,
        tolerance: float | None = 1e-2,
        min_steps: int = 5,
        max_steps: int = 257,
        layer_baselines: BaselineSpec = None,
        additional_forward_args: Any = None,
        forward_kwargs: Mapping[str, Any] | None = None,
        internal_batch_size: int | None = None,
        memory_budget: int | str | None = None,
    ) -> Attribution:
        """Attribute ``target`` to ``inputs`` (or to the layer) relative to ``baselines`` (zeros by default)."""
        options = self._options(n_steps=n_steps, method=method, tolerance=tolerance, min_steps=min_steps, max_steps=max_steps)
        return self._run(
            inputs, baselines, target, options, layer_baselines=layer_baselines,
            additional_forward_args=additional_forward_args, forward_kwargs=forward_kwargs,
            internal_batch_size=internal_batch_size, memory_budget=memory_budget,
        )

    def _options(self, *, n_steps: Steps, method: str | None, tolerance: float | None, min_steps: int, max_steps: int) -> dict[str, Any]:
        return _integration_options(n_steps, method, tolerance, min_steps, max_steps)

    def _attribute_points(self, call: Call, x: Points, b: Points, options: dict[str, Any]) -> Attribution:
        chunk = call.chunk_rows(x, b)
        if options["n_steps"] == "auto":
            result = _adaptive(call, x, b, chunk, options)
            advice = f"Raise max_steps (now {options['max_steps']}) or loosen tolerance."
        else:
            result = _fixed(call, x, b, chunk, options)
            advice = "Use more steps or n_steps='auto'."
        if result.converged is not None:
            warn_unconverged(result.converged, result.delta, result.input_values - result.baseline_values, options["tolerance"], advice)
        return result


class LayerIntegratedGradients(IntegratedGradients):
    """Integrated Gradients in the space of ``layer``'s output (or its inputs).

    Baselines are given in input space (e.g. PAD token ids; they pass through the model up to the
    layer, which stops the forward there) or directly at the layer with ``layer_baselines``;
    by default the layer baseline is zero. Rows feed the model the example's own inputs and
    swap the layer's value for the path point, so everything outside the layer (position and
    token-type embeddings, attention masks) stays as in the input.
    """

    name = "layer_integrated_gradients"

    def __init__(self, forward: Any, layer: nn.Module, **kwargs: Any) -> None:
        if layer is None:
            raise InvalidInputError("LayerIntegratedGradients needs a layer; use IntegratedGradients for the inputs")
        super().__init__(forward, layer, **kwargs)


def _integration_options(n_steps: Steps, method: str | None, tolerance: float | None, min_steps: int, max_steps: int) -> dict[str, Any]:
    check_tolerance(tolerance)
    if n_steps == "auto":
        if method not in (None, ADAPTIVE_RULE):
            raise InvalidInputError(f"n_steps='auto' refines nested grids with the {ADAPTIVE_RULE!r} rule; leave method unset (got {method!r})")
        if tolerance is None:
            raise InvalidInputError("n_steps='auto' needs a tolerance to aim for, e.g. tolerance=1e-2")
        for name, value in (("min_steps", min_steps), ("max_steps", max_steps)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise InvalidInputError(f"{name} must be an int >= 2, got {value!r}")
        if max_steps < min_steps:
            raise InvalidInputError(f"max_steps ({max_steps}) must be at least min_steps ({min_steps})")
        return {"n_steps": "auto", "rule": ADAPTIVE_RULE, "tolerance": tolerance, "min_steps": min_steps, "max_steps": max_steps}
    rule = method or "gausslegendre"
    if rule not in FIXED_RULES:
        raise InvalidInputError(f"unknown integration method {rule!r}; choose one of {FIXED_RULES}, or n_steps='auto'")
    fixed_rule(rule, n_steps)  # validates n_steps for this rule
    return {"n_steps": n_steps, "rule": rule, "tolerance": tolerance}


def _endpoint_values(call: Call, x: Points, b: Points, chunk: int, examples: Tensor) -> tuple[Tensor, Tensor]:
    """``f(x)`` and ``f(b)`` for the given examples, with one forward (no gradients) over both."""
    k = examples.shape[0]
    plan = path_plan(x, b, examples.repeat(2), torch.cat([torch.ones(k), torch.zeros(k)]).double(), torch.ones(2 * k), torch.arange(2 * k), 2 * k)
    values = call.run(plan, chunk, grad=False).values
    return values[:k], values[k:]


def _fixed(call: Call, x: Points, b: Points, chunk: int, options: dict[str, Any]) -> Attribution:
    n, rule = options["n_steps"], options["rule"]
    alphas_np, weights_np = fixed_rule(rule, n)
    count = call.n_examples
    examples = torch.arange(count).repeat_interleave(n)
    alphas = torch.from_numpy(alphas_np).repeat(count)
    weights = torch.from_numpy(weights_np).repeat(count)
    accumulated = call.run(path_plan(x, b, examples, alphas, weights, examples, count), chunk)
    attributions = scale(x, b, accumulated.sums)
    fx, fb = _values_at_ends(call, x, b, chunk, accumulated.values.reshape(count, n), alphas_np)
    return _result(attributions, fx, fb, torch.full((count,), n), options)


def _values_at_ends(call: Call, x: Points, b: Points, chunk: int, path_values: Tensor, alphas: np.ndarray) -> tuple[Tensor, Tensor]:
    """Reuse the path's values at alpha 0 and 1 when the rule has those nodes; compute the rest."""
    known = {float(a): path_values[:, i] for i, a in enumerate(alphas) if a in (0.0, 1.0)}
    if 1.0 in known and 0.0 in known:
        return known[1.0], known[0.0]
    fx, fb = _endpoint_values(call, x, b, chunk, torch.arange(call.n_examples))
    return known.get(1.0, fx), known.get(0.0, fb)


def _result(attributions: tuple[Tensor, ...], fx: Tensor, fb: Tensor, steps: Tensor, options: dict[str, Any], converged: Tensor | None = None) -> Attribution:
    delta = completeness_delta(attributions, fx - fb)
    tolerance = options["tolerance"]
    if converged is None and tolerance is not None:
        converged = within_tolerance(delta, fx - fb, tolerance)
    return Attribution(
        attributions, method="", delta=delta, n_steps=steps, input_values=fx, baseline_values=fb,
        converged=converged, tolerance=tolerance, rule=options["rule"],
    )


def _adaptive(call: Call, x: Points, b: Points, chunk: int, options: dict[str, Any]) -> Attribution:
    """Adaptive panels per example (see :mod:`limelight.engine.adaptive`)."""
    outcome = integrate(call, x, b, chunk, options["tolerance"], options["min_steps"], options["max_steps"])
    result = _result(outcome.attributions, outcome.input_values, outcome.baseline_values, outcome.n_steps, options, outcome.converged)
    return Attribution(**{**result.__dict__, "extras": {"alphas": outcome.alphas}})
