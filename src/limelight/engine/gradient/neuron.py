"""Neuron methods: attribute one neuron of a layer (or the sum of several) to the inputs.

``NeuronX(forward, layer).attribute(inputs, neuron_selector, ...)``, Captum's shape. Each is the
input method of the same family run on the *neuron forward*
(:func:`~limelight.engine.gradient.neuron_selector.neuron_forward`): the model up to the layer,
returning the selected neuron per row. So the evidence is the family's, for the neuron:
integrated gradients and GradientSHAP report ``delta = sum(attributions) - (n(x) - n(b))``.
The result's ``settings`` (:class:`NeuronOptions`) hold the selector and the inner method's options.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from torch import Tensor, nn
from typing_extensions import Unpack

from ...errors import InvalidInputError
from ..inputs import BaselineSpec, Inputs
from ..options import CommonKwargs, MethodOptions
from ..result import Attribution
from .gradient_shap import GradientShap, Stdevs
from .gradients import Saliency
from .integrated_gradients import IntegratedGradients, Steps
from .layers import as_layers
from .neuron_selector import NeuronChoice, NeuronSelector, check_selector, neuron_forward


@dataclass(frozen=True)
class NeuronOptions(MethodOptions):
    """A neuron method's settings: the ``neuron_selector``, whether it read the layer's input, and the ``inner`` method's options."""

    neuron_selector: Any = 0
    attribute_to_neuron_input: bool = False
    inner: MethodOptions = field(default_factory=MethodOptions)

    @property
    def seed(self) -> int | None:
        """The seed the inner method used (sampled methods), else ``None``."""
        return self.inner.seed


class NeuronMethod:
    """Base of neuron methods: an inner input method on the neuron forward of ``layer``.

    ``forward``, ``eval_mode`` and ``check_forward`` are as for every method; there is no
    ``output`` or ``target``: the explained value is the neuron.
    """

    name = "neuron"
    inner_type: Any = IntegratedGradients

    def __init__(self, forward: Any, layer: nn.Module, *, eval_mode: bool = True, check_forward: bool = True, **inner: Any) -> None:
        if isinstance(layer, (list, tuple)):
            raise InvalidInputError(f"{type(self).__name__} explains a neuron of one layer; got a list of {len(layer)}")
        self.layer = as_layers(layer, type(self).__name__)[0]
        self.choice = NeuronChoice()
        self.inner = self.inner_type(
            neuron_forward(forward, self.layer, self.choice), eval_mode=eval_mode, check_forward=check_forward, **inner
        )

    def explain(self, selector: NeuronSelector, at_input: bool, run: Callable[[], Attribution]) -> Attribution:
        """Run ``run()`` (the inner method's ``attribute``) for this neuron; the result named and set by this method."""
        self.choice.selector, self.choice.at_input = check_selector(selector), bool(at_input)
        result = run()
        settings = NeuronOptions(neuron_selector=selector, attribute_to_neuron_input=bool(at_input), inner=result.settings)
        return replace(result, method=self.name, settings=settings)


class NeuronGradient(NeuronMethod):
    """The gradient of the selected neuron with respect to the inputs (signed)."""

    name = "neuron_gradient"
    inner_type = Saliency

    def attribute(
        self, inputs: Inputs, neuron_selector: NeuronSelector, *, attribute_to_neuron_input: bool = False, **common: Unpack[CommonKwargs]
    ) -> Attribution:
        """``d neuron / d inputs`` for each example."""
        return self.explain(neuron_selector, attribute_to_neuron_input, lambda: self.inner.attribute(inputs, abs=False, **common))


class NeuronIntegratedGradients(NeuronMethod):
    """Integrated gradients of the selected neuron (``multiply_by_inputs=False``: the mean path gradient)."""

    name = "neuron_integrated_gradients"
    inner_type = IntegratedGradients

    def __init__(self, forward: Any, layer: nn.Module, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, multiply_by_inputs=multiply_by_inputs, **kwargs)

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: BaselineSpec = None,
        *,
        n_steps: Steps = 50,
        rule: str | None = None,
        method: str | None = None,
        tolerance: float | None = 1e-2,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Integrated gradients of the neuron from ``baselines`` (zeros) to ``inputs`` (options as :class:`IntegratedGradients`)."""
        return self.explain(
            neuron_selector,
            attribute_to_neuron_input,
            lambda: self.inner.attribute(inputs, baselines, n_steps=n_steps, rule=rule, method=method, tolerance=tolerance, **common),
        )


class NeuronGradientShap(NeuronMethod):
    """GradientSHAP of the selected neuron over a baseline distribution (options as :class:`GradientShap`)."""

    name = "neuron_gradient_shap"
    inner_type = GradientShap

    def __init__(self, forward: Any, layer: nn.Module, *, multiply_by_inputs: bool = True, **kwargs: Any) -> None:
        super().__init__(forward, layer, multiply_by_inputs=multiply_by_inputs, **kwargs)

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: Tensor | tuple[Tensor, ...],
        *,
        n_samples: int = 5,
        stdevs: Stdevs = 0.0,
        seed: int | None = None,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """Expected gradients of the neuron over ``baselines``."""
        return self.explain(
            neuron_selector,
            attribute_to_neuron_input,
            lambda: self.inner.attribute(inputs, baselines, n_samples=n_samples, stdevs=stdevs, seed=seed, **common),
        )
