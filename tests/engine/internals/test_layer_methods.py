"""Layer methods: Captum cross-checks on small MLPs and CNNs, analytic cases, evidence and refusals."""

from __future__ import annotations

import warnings

import pytest
import torch

import limelight as ll
from limelight.errors import ConvergenceWarning, InvalidInputError, LayerError

from .models import CNN, TwoBranches, inputs, linear_head, mlp

captum_attr = pytest.importorskip("captum.attr")

X, B = inputs()
IMAGES = torch.randn(3, 2, 6, 6, generator=torch.Generator().manual_seed(2))


def close(ours, theirs):
    if isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    else:
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_trapezoid", "riemann_left"])
def test_layer_conductance_matches_captum(rule):
    model = mlp()
    theirs = captum_attr.LayerConductance(model, model[2]).attribute(X, B, target=1, n_steps=12, method=rule)
    ours = ll.LayerConductance(model, model[2]).attribute(X, B, target=1, n_steps=12, method=rule, tolerance=None)
    close(ours.attributions, theirs)
    assert ours.method == "layer_conductance" and ours.settings.rule == rule


def test_layer_conductance_and_internal_influence_match_captum_on_a_cnn():
    model = CNN()
    theirs = captum_attr.LayerConductance(model, model.conv2).attribute(IMAGES, target=2, n_steps=4)
    ours = ll.LayerConductance(model, model.conv2).attribute(IMAGES, target=2, n_steps=4, tolerance=None)
    close(ours.attributions, theirs)
    theirs = captum_attr.InternalInfluence(model, model.relu).attribute(IMAGES, target=0, n_steps=4)
    close(ll.InternalInfluence(model, model.relu).attribute(IMAGES, target=0, n_steps=4).attributions, theirs)


@pytest.mark.parametrize("rule", ["gausslegendre", "riemann_middle"])
def test_internal_influence_matches_captum(rule):
    model = mlp()
    theirs = captum_attr.InternalInfluence(model, model[1]).attribute(X, B, target=2, n_steps=10, method=rule)
    ours = ll.InternalInfluence(model, model[1]).attribute(X, B, target=2, n_steps=10, rule=rule)
    close(ours.attributions, theirs)
    assert ours.delta is None and torch.equal(ours.n_steps, torch.full((4,), 10))


@pytest.mark.parametrize("multiply", [True, False])
def test_layer_gradient_x_activation_over_a_list_of_layers_matches_captum(multiply):
    model = mlp()
    layers = [model[1], model[3]]
    theirs = captum_attr.LayerGradientXActivation(model, layers, multiply_by_inputs=multiply).attribute(X, target=0)
    ours = ll.LayerGradientXActivation(model, layers, multiply_by_inputs=multiply).attribute(X, target=0)
    close(ours.attributions, theirs)
    assert ours.settings.multiply_by_inputs is multiply


def test_layer_activation_equals_the_hooked_value_for_each_layer_in_one_forward():
    model = CNN()
    seen = {}
    handles = [
        m.register_forward_hook(lambda m, a, out, k=k: seen.setdefault(k, out.detach()))
        for k, m in (("c1", model.conv1), ("c2", model.conv2))
    ]
    model(IMAGES)
    for handle in handles:
        handle.remove()
    ours = ll.LayerActivation(model, [model.conv1, model.conv2]).attribute(IMAGES)
    torch.testing.assert_close(ours.attributions[0], seen["c1"], rtol=0, atol=0)
    torch.testing.assert_close(ours.attributions[1], seen["c2"], rtol=0, atol=0)
    close(ours.attributions, captum_attr.LayerActivation(model, [model.conv1, model.conv2]).attribute(IMAGES))


def test_layer_activation_reads_token_ids_through_an_embedding():
    embedding = torch.nn.Embedding(10, 3)
    model = torch.nn.Sequential(embedding, torch.nn.Flatten(), torch.nn.Linear(6, 2)).eval()
    ids = torch.tensor([[1, 2], [3, 4]])
    torch.testing.assert_close(ll.LayerActivation(model, embedding).attribute(ids).attributions, embedding(ids).detach())


@pytest.mark.parametrize("multiply", [True, False])
def test_layer_gradient_shap_matches_captum_where_the_draws_do_not_matter(multiply):
    model = linear_head()  # the gradient at the tanh output is the head's weight, whatever the sampled point
    theirs = captum_attr.LayerGradientShap(model, model[1], multiply_by_inputs=multiply).attribute(X, B[:1], target=1, n_samples=4)
    ours = ll.LayerGradientShap(model, model[1], multiply_by_inputs=multiply).attribute(X, B[:1], target=1, n_samples=4, seed=0)
    close(ours.attributions, theirs)
    if multiply:
        torch.testing.assert_close(ours.delta, torch.zeros(4, dtype=torch.float64), rtol=0, atol=1e-6)
    else:
        assert ours.delta is None


def test_layer_gradient_shap_delta_shrinks_with_samples_and_replays_with_its_seed():
    model = mlp()
    few = ll.LayerGradientShap(model, model[1]).attribute(X, B, target=1, n_samples=2, seed=4)
    again = ll.LayerGradientShap(model, model[1]).attribute(X, B, target=1, n_samples=2, seed=few.seed)
    torch.testing.assert_close(few.attributions, again.attributions, rtol=0, atol=0)
    many = ll.LayerGradientShap(model, model[1]).attribute(X, B, target=1, n_samples=400, seed=4)
    assert many.delta.abs().mean() < few.delta.abs().mean()


@pytest.mark.parametrize("mask", [None, torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3]]), torch.tensor([0, 1, 1, 0, 2, 2, 3, 3])])
def test_layer_feature_ablation_with_layer_masks_matches_captum(mask):
    model = mlp()
    theirs = captum_attr.LayerFeatureAblation(model, model[1]).attribute(X, layer_baselines=0.25, target=2, layer_mask=mask)
    ours = ll.LayerFeatureAblation(model, model[1]).attribute(X, 0.25, target=2, layer_mask=mask, internal_batch_size=3)
    close(ours.attributions, theirs)
    torch.testing.assert_close(ours.input_value, model(X)[:, 2].double())


def test_layer_feature_ablation_on_a_cnn_channel_mask_matches_captum():
    model = CNN()
    channels = torch.arange(4).reshape(1, 4, 1, 1)
    theirs = captum_attr.LayerFeatureAblation(model, model.conv1).attribute(IMAGES, target=1, layer_mask=channels)
    close(ll.LayerFeatureAblation(model, model.conv1).attribute(IMAGES, target=1, layer_mask=channels).attributions, theirs)


def test_layer_integrated_gradients_over_a_list_of_layers_matches_captum_with_one_result_per_layer():
    model = TwoBranches()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Captum's reminder that the layers must not feed each other
        theirs = captum_attr.LayerIntegratedGradients(model, [model.a, model.b]).attribute(X, B, target=2, n_steps=16)
    ours = ll.LayerIntegratedGradients(model, [model.a, model.b]).attribute(X, B, target=2, n_steps=16)
    close(ours.attributions, theirs)
    total = ours.attributions[0].sum(1) + ours.attributions[1].sum(1)
    torch.testing.assert_close(total.double() - (ours.input_value - ours.baseline_value), ours.delta)
    assert ours.delta.abs().max() < 1e-5  # the two layers together carry everything


def test_layer_integrated_gradients_without_multiplying_by_inputs_matches_captum():
    model = TwoBranches()
    theirs = captum_attr.LayerIntegratedGradients(model, model.a, multiply_by_inputs=False).attribute(X, B, target=0, n_steps=10)
    ours = ll.LayerIntegratedGradients(model, model.a, multiply_by_inputs=False).attribute(X, B, target=0, n_steps=10)
    close(ours.attributions, theirs)
    assert ours.delta is None and ours.settings.multiply_by_inputs is False
    with pytest.raises(InvalidInputError, match="multiply_by_inputs"):
        ll.LayerIntegratedGradients(model, model.a, multiply_by_inputs=False).attribute(X, B, target=0, n_steps="auto")


def test_conductance_of_a_cut_sums_to_the_change_of_the_output_like_integrated_gradients():
    model = mlp()
    conductance = ll.LayerConductance(model, model[3]).attribute(X, B, target=1, n_steps=400, rule="riemann_trapezoid")
    ig = ll.IntegratedGradients(model).attribute(X, B, target=1, n_steps=64)
    totals = conductance.attributions.double().sum(1)
    torch.testing.assert_close(totals, ig.attributions.double().sum(1), rtol=0, atol=2e-3)
    torch.testing.assert_close(conductance.delta, totals - (conductance.input_value - conductance.baseline_value))
    assert bool(conductance.converged.all()) and conductance.tolerance == 1e-2


def test_conductance_before_a_linear_head_is_the_layer_change_times_the_weight():
    model = linear_head()
    conductance = ll.LayerConductance(model, model[1]).attribute(X, B, target=2, n_steps=5, rule="riemann_trapezoid")
    change = torch.tanh(model[0](X)) - torch.tanh(model[0](B))
    torch.testing.assert_close(conductance.attributions, (change * model[2].weight[2]).detach(), rtol=1e-5, atol=1e-6)
    assert conductance.delta.abs().max() < 1e-5


def test_conductance_of_a_layer_that_is_not_a_cut_warns_that_it_cannot_add_up():
    model = TwoBranches()
    with pytest.warns(ConvergenceWarning, match="parallel branch"):
        ll.LayerConductance(model, model.a).attribute(X, B, target=2, n_steps=8)


def test_refusals_name_the_layer_and_what_to_do():
    model = mlp()
    with pytest.raises(LayerError, match="never ran"):
        ll.LayerConductance(model, torch.nn.Linear(2, 2)).attribute(X, target=0)
    with pytest.raises(InvalidInputError, match="needs a layer"):
        ll.InternalInfluence(model, "model.1")
    with pytest.raises(InvalidInputError, match="one layer"):
        ll.LayerConductance(model, [model[1], model[3]])
    with pytest.raises(InvalidInputError, match="same layer twice"):
        ll.LayerActivation(model, [model[1], model[1]])
    with pytest.raises(InvalidInputError, match="no adaptive mode"):
        ll.LayerConductance(model, model[1]).attribute(X, target=0, n_steps="auto")
    with pytest.raises(InvalidInputError, match="rule once"):
        ll.InternalInfluence(model, model[1]).attribute(X, target=0, rule="riemann_left", method="gausslegendre")
    shared = torch.nn.Tanh()
    twice = torch.nn.Sequential(torch.nn.Linear(6, 6), shared, torch.nn.Linear(6, 3), shared).eval()
    with pytest.raises(LayerError, match="more than once"):
        ll.LayerGradientXActivation(twice, shared).attribute(X, target=0)


def test_layer_inputs_are_attributed_with_attribute_to_layer_input_as_captum():
    model = mlp()
    theirs = captum_attr.LayerConductance(model, model[2]).attribute(X, B, target=0, n_steps=6, attribute_to_layer_input=True)
    ours = ll.LayerConductance(model, model[2], attribute_to_layer_input=True).attribute(X, B, target=0, n_steps=6, tolerance=None)
    close(ours.attributions, theirs)
    theirs = captum_attr.LayerGradientXActivation(model, model[4]).attribute(X, target=1, attribute_to_layer_input=True)
    close(ll.LayerGradientXActivation(model, model[4], attribute_to_layer_input=True).attribute(X, target=1).attributions, theirs)


def test_integer_inputs_and_layers_of_several_tensors_in_a_list_are_refused():
    model = mlp()
    with pytest.raises(InvalidInputError, match="floating-point"):
        ll.LayerConductance(model, model[1]).attribute(X.long(), target=0)

    class Pair(torch.nn.Module):
        def forward(self, x):
            return x, x + 1

    pair, other = Pair(), torch.nn.Linear(6, 6)
    model = torch.nn.Sequential(pair, FirstOf(), other).eval()
    with pytest.raises(LayerError, match="gives 2 tensors"):
        ll.LayerIntegratedGradients(model, [pair, other]).attribute(X, target=0, n_steps=2)


class FirstOf(torch.nn.Module):
    """Keeps the first tensor of a tuple."""

    def forward(self, value):
        return value[0]
