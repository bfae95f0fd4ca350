"""Neuron conductance (Dhamdhere et al., 2018): the part of each input's integrated gradient that flows through a neuron.

``NC_i = (x_i - b_i) * integral_0^1 dF/dy_n(a) * dy_n/dx_i(a) da`` along the input path, for the
target output ``F`` and the selected neuron ``y_n`` of the layer. For several selected neurons
(slices, or a callable that adds neurons up) it is the sum of their conductances:
``sum_n dF/dy_n * dy_n/dx_i``. (Captum multiplies the sums instead, ``(sum_n dF/dy_n) * (sum_n
dy_n/dx_i)``; for one neuron the two agree.) Each row takes two gradients: the target's at the
layer, then the neuron's (weighted by it) at the inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..evidence import Evidence
from ..inputs import BaselineSpec, Inputs
from ..model import BoundModel
from ..options import CommonKwargs
from ..result import Attribution
from ..spaces import Points, Space, _tensors
from ..targets import TargetSpec
from .conductance import LayerPathOptions, path_options
from .layers import check_ran, hooked
from .method import Call, GradientMethod, _require_float
from .neuron_selector import NeuronChoice, NeuronSelector, check_selector, select
from .paths import path_plan, scale
from .quadrature import fixed_rule


@dataclass(frozen=True)
class ThroughNeuron:
    """Points are the inputs; the gradient is the target's, through the chosen neuron(s) of ``layer`` only."""

    layer: nn.Module
    choice: NeuronChoice

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        return inputs

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        seen: list[Points] = [()]

        def keep(position: int, value: Any) -> None:
            seen[0] = tuple(_tensors(value))

        with hooked((self.layer,), self.choice.at_input, keep) as calls:
            if not grad:
                with torch.inference_mode():
                    values = model.values(points, example_index)
                check_ran((self.layer,), calls)
                return values, None
            with torch.enable_grad():
                points = tuple(p.detach().requires_grad_(True) for p in points)
                values = model.values(points, example_index)
                check_ran((self.layer,), calls)
                layer_value = [t for t in seen[0] if t.requires_grad]
                at_layer = torch.autograd.grad(values.sum(), layer_value, retain_graph=True, allow_unused=True)
                weights = iter(torch.zeros_like(t) if g is None else g.detach() for g, t in zip(at_layer, layer_value))
                weighted = tuple(t * next(weights) if t.requires_grad else torch.zeros_like(t) for t in seen[0])
                through = select(weighted, self.choice.selector, self.layer)
                grads = torch.autograd.grad(through.sum(), points, allow_unused=True)
        return values.detach(), tuple(torch.zeros_like(p) if g is None else g for g, p in zip(grads, points))


@dataclass(frozen=True)
class NeuronConductanceOptions(LayerPathOptions):
    """Neuron conductance's options: the path rule, the selector, and ``multiply_by_inputs``."""

    neuron_selector: Any = 0
    attribute_to_neuron_input: bool = False
    multiply_by_inputs: bool = True


class NeuronConductance(GradientMethod[NeuronConductanceOptions]):
    """Conductance of the target through the selected neuron(s) of ``layer``, per input element.

    Captum's shape: ``NeuronConductance(forward, layer).attribute(inputs, neuron_selector,
    baselines, target, n_steps=50)``. The rule is ``"gausslegendre"`` by default (Captum's is
    ``"riemann_trapezoid"``, whose weights do not sum to one; pass ``rule=`` or ``method=``).
    ``multiply_by_inputs=False`` leaves out the ``(x - b)`` factor.
    """

    name = "neuron_conductance"
    options_type = NeuronConductanceOptions

    def __init__(self, forward: Any, layer: nn.Module, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        if not isinstance(layer, nn.Module):
            raise InvalidInputError(f"NeuronConductance needs one layer (a torch.nn.Module of the model), got {layer!r}")
        super().__init__(forward, layer, **kwargs)
        self.neuron_layer = layer
        self.multiply_by_inputs = bool(multiply_by_inputs)
        self.choice = NeuronChoice()

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: BaselineSpec = None,
        target: TargetSpec = None,
        *,
        n_steps: int = 50,
        rule: str | None = None,
        method: str | None = None,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Conductance through the neuron of ``target`` from ``baselines`` (zeros) to ``inputs``."""
        path = path_options(type(self).__name__, n_steps, rule, method, None)
        options = NeuronConductanceOptions(
            n_steps=path.n_steps,
            rule=path.rule,
            tolerance=None,
            neuron_selector=check_selector(neuron_selector),
            attribute_to_neuron_input=bool(attribute_to_neuron_input),
            multiply_by_inputs=self.multiply_by_inputs,
        )
        self.choice.selector, self.choice.at_input = options.neuron_selector, options.attribute_to_neuron_input
        result = self.run(inputs, baselines, target, options, common)
        if isinstance(inputs, tuple) and isinstance(result.attributions, Tensor):
            result = replace(result, attributions=(result.attributions,))
        return result

    def attribution_space(self, inputs: Points) -> Space:
        _require_float(inputs)
        return ThroughNeuron(self.neuron_layer, self.choice)

    def attribute_points(self, call: Call, x: Points, b: Points, options: NeuronConductanceOptions) -> Attribution:
        alphas, weights = (torch.from_numpy(a) for a in fixed_rule(options.rule, options.n_steps))
        count, n = call.n_examples, options.n_steps
        examples = torch.arange(count).repeat_interleave(n)
        plan = path_plan(x, b, examples, alphas.repeat(count), weights.repeat(count), examples, count)
        sums = call.run(plan, call.chunk_rows(x, b)).gradient_sums
        attributions = scale(x, b, sums) if options.multiply_by_inputs else tuple(s.to(p.dtype) for s, p in zip(sums, x))
        return Attribution(attributions, method=self.name, evidence=Evidence(n_steps=torch.full((count,), n)), settings=options)
