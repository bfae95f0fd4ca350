"""Neuron propagation methods: DeepLift, DeepLiftShap and LRP of one neuron of a layer (Captum's shape).

Each is the input method run on the *neuron forward* (the model up to the layer, returning the
selected neuron per row; :class:`~limelight.engine.gradient.neuron.NeuronMethod`), so the rules
apply up to the layer and the evidence is the method's, for the neuron: DeepLift's ``delta`` is
``sum(attributions) - (n(x) - n(b))``, LRP's ``sum(relevance) - n(x)``.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from typing_extensions import Unpack

from ..gradient.neuron import NeuronMethod
from ..gradient.neuron_selector import NeuronSelector
from ..inputs import BaselineSpec, Inputs
from ..options import CommonKwargs
from ..result import Attribution
from .composites import Composite
from .deeplift import DeepLift, DeepLiftShap
from .lrp import LRP


class NeuronDeepLift(NeuronMethod):
    """DeepLift of the selected neuron against ``baselines`` (zeros); ``rule`` as for :class:`DeepLift`."""

    name = "neuron_deeplift"
    inner_type = DeepLift

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: BaselineSpec = None,
        *,
        rule: str | None = None,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """DeepLift attributions of the neuron, summing to ``n(x) - n(b)``."""
        return self.explain(
            neuron_selector, attribute_to_neuron_input, lambda: self.inner.attribute(inputs, baselines, rule=rule, **common)
        )


class NeuronDeepLiftShap(NeuronMethod):
    """DeepLiftShap of the selected neuron over a baseline distribution shaped ``(M, ...)``."""

    name = "neuron_deeplift_shap"
    inner_type = DeepLiftShap

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: Tensor | tuple[Tensor, ...],
        *,
        rule: str | None = None,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """The mean of the neuron's DeepLift over every baseline."""
        return self.explain(
            neuron_selector, attribute_to_neuron_input, lambda: self.inner.attribute(inputs, baselines, rule=rule, **common)
        )


class NeuronLRP(NeuronMethod):
    """LRP relevance of the selected neuron (``composite`` as for :class:`LRP`, per call or at construction)."""

    name = "neuron_lrp"
    inner_type = LRP

    def __init__(self, forward: Any, layer: Any, *, composite: str | Composite | None = None, **kwargs: Any) -> None:
        super().__init__(forward, layer, composite=composite, **kwargs)

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        *,
        composite: str | Composite | None = None,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[CommonKwargs],
    ) -> Attribution:
        """The relevance of the neuron at ``inputs``; ``delta`` is ``sum - n(x)``."""
        return self.explain(neuron_selector, attribute_to_neuron_input, lambda: self.inner.attribute(inputs, composite=composite, **common))
