"""The layer and neuron methods on odd inputs (every dtype, empty examples, tuples, every baseline form):
each example's own result, or a LimelightError. The inputs come from the engine's property test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

import limelight as ll
from limelight.errors import LimelightError

from ..test_input_properties import Method, Numeric, _check_against_examples, cases

pytestmark = pytest.mark.slow  # about a hundred drawn cases: seconds

MODEL = Numeric()
LAYER = MODEL.layer

METHODS = [
    Method("layer_conductance", lambda x, b: ll.LayerConductance(MODEL, LAYER).attribute(x, b, target=0, n_steps=3, tolerance=None)),
    Method("internal_influence", lambda x, b: ll.InternalInfluence(MODEL, LAYER).attribute(x, b, target=0, n_steps=3)),
    Method("layer_gradient_x_activation", lambda x, b: ll.LayerGradientXActivation(MODEL, LAYER).attribute(x, target=0)),
    Method("layer_activation", lambda x, b: ll.LayerActivation(MODEL, LAYER).attribute(x)),
    Method("layer_feature_ablation", lambda x, b: ll.LayerFeatureAblation(MODEL, LAYER).attribute(x, target=0)),
    Method("neuron_gradient", lambda x, b: ll.NeuronGradient(MODEL, LAYER).attribute(x, 0)),
    Method("neuron_integrated_gradients", lambda x, b: ll.NeuronIntegratedGradients(MODEL, LAYER).attribute(x, 0, b, n_steps=3)),
    Method("neuron_conductance", lambda x, b: ll.NeuronConductance(MODEL, LAYER).attribute(x, (slice(None),), b, target=0, n_steps=3)),
    Method("neuron_feature_ablation", lambda x, b: ll.NeuronFeatureAblation(MODEL, LAYER).attribute(x, 0, b)),
]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(cases())
def test_every_layer_and_neuron_method_gives_each_examples_own_result_or_a_limelight_error(method, case):
    inputs, given_baselines = case
    try:
        result = method.run(inputs, given_baselines)
    except LimelightError:
        return
    _check_against_examples(method, inputs, given_baselines, result)
