"""Neuron methods: Captum cross-checks for every selector form, completeness for the neuron, refusals."""

from __future__ import annotations

import warnings

import pytest
import torch

import limelight as ll
from limelight.errors import InvalidInputError, LayerError

from .models import CNN, inputs, linear_head, mlp

captum_attr = pytest.importorskip("captum.attr")

X, B = inputs()
IMAGES = torch.randn(3, 2, 6, 6, generator=torch.Generator().manual_seed(2))
SELECTORS = [3, (slice(2, 5),), lambda y: y[:, 1] + y[:, 6]]


def close(ours, theirs):
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def captum(method, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Captum's reminder about callable selectors
        return method.attribute(*args, **kwargs)


@pytest.mark.parametrize("selector", SELECTORS, ids=["int", "slice", "callable"])
def test_neuron_gradient_integrated_gradients_and_ablation_match_captum(selector):
    model = mlp()
    layer = model[2]
    close(
        ll.NeuronGradient(model, layer).attribute(X, selector).attributions, captum(captum_attr.NeuronGradient(model, layer), X, selector)
    )
    theirs = captum(captum_attr.NeuronIntegratedGradients(model, layer), X, selector, B, n_steps=12)
    ours = ll.NeuronIntegratedGradients(model, layer).attribute(X, selector, B, n_steps=12)
    close(ours.attributions, theirs)
    theirs = captum(captum_attr.NeuronFeatureAblation(model, layer), X, selector, B)
    close(ll.NeuronFeatureAblation(model, layer).attribute(X, selector, B).attributions, theirs)
    assert ours.method == "neuron_integrated_gradients" and ours.settings.neuron_selector is selector


def test_neuron_integrated_gradients_add_up_to_the_change_of_the_neuron():
    model = mlp()
    result = ll.NeuronIntegratedGradients(model, model[3]).attribute(X, (slice(0, 4),), B, n_steps=16)
    neuron = lambda z: torch.tanh(model[2](torch.tanh(model[0](z))))[:, :4].sum(1)  # noqa: E731
    torch.testing.assert_close(result.input_value, neuron(X).double().detach())
    torch.testing.assert_close(result.baseline_value, neuron(B).double().detach())
    assert result.delta.abs().max() < 1e-5 and bool(result.converged.all())


@pytest.mark.parametrize("multiply", [True, False])
def test_neuron_integrated_gradients_and_conductance_without_multiplying_match_captum(multiply):
    model = mlp()
    layer = model[2]
    theirs = captum_attr.NeuronIntegratedGradients(model, layer, multiply_by_inputs=multiply).attribute(X, 5, B, n_steps=10)
    close(ll.NeuronIntegratedGradients(model, layer, multiply_by_inputs=multiply).attribute(X, 5, B, n_steps=10).attributions, theirs)
    theirs = captum_attr.NeuronConductance(model, layer, multiply_by_inputs=multiply).attribute(
        X, 5, B, target=1, n_steps=10, method="gausslegendre"
    )
    close(ll.NeuronConductance(model, layer, multiply_by_inputs=multiply).attribute(X, 5, B, target=1, n_steps=10).attributions, theirs)


def test_neuron_conductance_on_a_cnn_matches_captum_and_adds_up_over_neurons():
    model = CNN()
    images = IMAGES[:2]
    theirs = captum_attr.NeuronConductance(model, model.conv1).attribute(images, (1, 2, 2), target=0, n_steps=3, method="riemann_right")
    method = ll.NeuronConductance(model, model.conv1)
    ours = method.attribute(images, (1, 2, 2), target=0, n_steps=3, method="riemann_right")
    close(ours.attributions, theirs)
    # conductance through a set of neurons is the sum of theirs
    both = method.attribute(images, (1, slice(2, 4), 2), target=0, n_steps=3, rule="riemann_right")
    other = method.attribute(images, (1, 3, 2), target=0, n_steps=3, rule="riemann_right")
    close(both.attributions, ours.attributions + other.attributions)


@pytest.mark.parametrize("multiply", [True, False])
def test_neuron_gradient_shap_matches_captum_where_the_draws_do_not_matter(multiply):
    linear = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Linear(8, 3)).eval()  # the neuron is linear in the input
    theirs = captum_attr.NeuronGradientShap(linear, linear[0], multiply_by_inputs=multiply).attribute(X, 1, B[:1], n_samples=3)
    ours = ll.NeuronGradientShap(linear, linear[0], multiply_by_inputs=multiply).attribute(X, 1, B[:1], n_samples=3, seed=0)
    close(ours.attributions, theirs)
    assert (ours.delta is None) is not multiply and ours.seed == 0


def test_neuron_methods_read_a_layers_input():
    model = linear_head()
    ours = ll.NeuronGradient(model, model[2]).attribute(X, 4, attribute_to_neuron_input=True)
    theirs = captum_attr.NeuronGradient(model, model[2]).attribute(X, 4, attribute_to_neuron_input=True)
    close(ours.attributions, theirs)
    assert ours.settings.attribute_to_neuron_input is True


@pytest.mark.parametrize(
    "selector, error, message",
    [
        (1.5, InvalidInputError, "neuron_selector must be an int"),
        ((), InvalidInputError, "neuron_selector must be an int"),
        ([1], InvalidInputError, "neuron_selector must be an int"),
        ((1, "a"), InvalidInputError, "neuron_selector must be an int"),
        (8, InvalidInputError, "out of range.*\\(8,\\)"),
        ((0, 0), InvalidInputError, "more indices"),
        ((slice(8, 9),), InvalidInputError, "selects no neuron"),
        (lambda y: y, InvalidInputError, "one value per example"),
    ],
)
def test_bad_neuron_selectors_are_refused_saying_what_a_selector_is(selector, error, message):
    model = mlp()
    for method in (ll.NeuronGradient(model, model[1]), ll.NeuronIntegratedGradients(model, model[1])):
        with pytest.raises(error, match=message):
            method.attribute(X, selector)
    with pytest.raises(error, match=message):
        ll.NeuronConductance(model, model[1]).attribute(X, selector, target=0, n_steps=2)


def test_bad_layers_for_neuron_methods_are_refused():
    model = mlp()
    with pytest.raises(LayerError, match="never ran"):
        ll.NeuronGradient(model, torch.nn.Linear(1, 1)).attribute(X, 0)
    with pytest.raises(InvalidInputError, match="one layer"):
        ll.NeuronIntegratedGradients(model, [model[1], model[3]])
    with pytest.raises(InvalidInputError, match="one layer"):
        ll.NeuronConductance(model, None)
