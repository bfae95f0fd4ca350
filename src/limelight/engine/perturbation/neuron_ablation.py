"""Neuron feature ablation: how much a neuron of a layer falls when each input feature is removed."""

from __future__ import annotations

from typing_extensions import Unpack

from ..gradient.neuron import NeuronMethod
from ..gradient.neuron_selector import NeuronSelector
from ..inputs import BaselineSpec, Inputs
from ..result import Attribution
from .ablation import FeatureAblation
from .method import FeatureKwargs


class NeuronFeatureAblation(NeuronMethod):
    """Leave-one-out scores of the selected neuron (see :mod:`limelight.engine.gradient.neuron`).

    ``feature_mask`` and ``perturber`` are as for :class:`FeatureAblation`; ``input_value`` is the neuron at the input.
    """

    name = "neuron_feature_ablation"
    inner_type = FeatureAblation

    def attribute(
        self,
        inputs: Inputs,
        neuron_selector: NeuronSelector,
        baselines: BaselineSpec = None,
        *,
        attribute_to_neuron_input: bool = False,
        **common: Unpack[FeatureKwargs],
    ) -> Attribution:
        """Score every feature of ``inputs`` by ablating it alone, for the neuron."""
        return self.explain(neuron_selector, attribute_to_neuron_input, lambda: self.inner.attribute(inputs, baselines, **common))
