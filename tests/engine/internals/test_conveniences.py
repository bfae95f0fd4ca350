"""Captum-compatible conveniences: callable and broadcast baselines, 0-d targets and masks, booleans,
target=None on multi-output forwards, and the noise tunnel over perturbation and neuron methods."""

from __future__ import annotations

import pytest
import torch

import limelight as ll
from limelight.errors import InvalidInputError, TargetError

from .models import inputs, mlp

MODEL = mlp()
X, B = inputs()


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_baselines_may_be_a_callable_with_or_without_the_inputs():
    method = ll.IntegratedGradients(MODEL)
    reference = method.attribute(X, B, target=1, n_steps=6).attributions
    close(method.attribute(X, lambda: B, target=1, n_steps=6).attributions, reference)
    close(method.attribute(X, lambda x: x * 0 + B, target=1, n_steps=6).attributions, reference)
    shap = ll.GradientShap(MODEL).attribute(X, lambda: B, target=1, seed=0).attributions
    close(shap, ll.GradientShap(MODEL).attribute(X, B, target=1, seed=0).attributions)


def test_baselines_broadcast_as_torch_does_and_masks_may_be_0d():
    column = torch.tensor([[0.1], [0.2], [0.3], [0.4]])
    ablation = ll.FeatureAblation(MODEL)
    close(ablation.attribute(X, column, target=0).attributions, ablation.attribute(X, column.expand(4, 6), target=0).attributions)
    one_feature = ablation.attribute(X, 0.5, target=0, feature_mask=torch.tensor(0))
    assert torch.equal(one_feature.extras.n_features, torch.ones(4, dtype=torch.long))
    close(one_feature.attributions[:, 0].double(), (MODEL(X) - MODEL(torch.full_like(X, 0.5)))[:, 0].double().detach())
    with pytest.raises(InvalidInputError, match=r"\(N, 1\)"):
        ablation.attribute(X, torch.zeros(3, 1), target=0)


def test_0d_targets_are_class_indices():
    saliency = ll.Saliency(MODEL)
    close(saliency.attribute(X, target=torch.tensor(2)).attributions, saliency.attribute(X, target=2).attributions)
    close(saliency.attribute(X, target=[torch.tensor(1)] * 4).attributions, saliency.attribute(X, target=1).attributions)
    with pytest.raises(TargetError, match="integer class index"):
        saliency.attribute(X, target=torch.tensor(1.0))


def test_target_none_on_a_multi_output_forward_means_every_output():
    summed = lambda x: MODEL(x).sum(1)  # noqa: E731
    close(ll.Saliency(MODEL).attribute(X, abs=False).attributions, ll.Saliency(summed).attribute(X, abs=False).attributions)
    close(ll.FeatureAblation(MODEL).attribute(X).attributions, ll.FeatureAblation(summed).attribute(X).attributions)


def test_boolean_inputs_take_boolean_baselines():
    flags = torch.rand(4, 6, generator=torch.Generator().manual_seed(0)) > 0.5
    forward = lambda z: MODEL(z.float())  # noqa: E731
    as_true = ll.FeatureAblation(forward).attribute(flags, True, target=1).attributions
    as_tensor = ll.FeatureAblation(forward).attribute(flags, torch.ones(6, dtype=torch.bool), target=1).attributions
    close(as_true, as_tensor)
    assert (as_true[flags] == 0).all()  # a feature already at the baseline changes nothing


def test_noise_tunnel_over_a_perturbation_method_equals_averaging_noisy_copies():
    mask = torch.tensor([0, 0, 1, 1, 2, 2])
    tunnel = ll.NoiseTunnel(ll.FeatureAblation(MODEL)).attribute(X, 0.1, [0, 1, 2, 0], nt_samples=3, stdevs=0.2, seed=5, feature_mask=mask)
    generator = torch.Generator().manual_seed(5)
    noisy = X.repeat_interleave(3, 0) + 0.2 * torch.randn((12, 6), generator=generator)
    copies = ll.FeatureAblation(MODEL).attribute(noisy, 0.1, [t for t in (0, 1, 2, 0) for _ in range(3)], feature_mask=mask)
    close(tunnel.attributions, copies.attributions.reshape(4, 3, 6).mean(1))
    assert tunnel.method == "noise_tunnel" and tunnel.settings.method == "feature_ablation" and tunnel.seed == 5


def test_noise_tunnel_over_sampled_and_neuron_methods_keeps_their_evidence():
    shapley = ll.NoiseTunnel(ll.ShapleyValues(MODEL)).attribute(X, target=1, nt_samples=2, stdevs=0.1, seed=0)
    assert shapley.delta.abs().max() < 1e-5  # exact Shapley values are efficient for every noisy copy
    neuron = ll.NoiseTunnel(ll.NeuronIntegratedGradients(MODEL, MODEL[1])).attribute(X, neuron_selector=2, n_steps=8, nt_samples=2, seed=0)
    assert neuron.attributions.shape == X.shape and neuron.delta.abs().max() < 1e-4
    with pytest.raises(InvalidInputError, match="floating-point"):
        ll.NoiseTunnel(ll.FeatureAblation(MODEL)).attribute(torch.ones(2, 6, dtype=torch.long), target=0)
    with pytest.raises(InvalidInputError, match="attribution method"):
        ll.NoiseTunnel(MODEL)


def test_noise_tunnel_over_layer_feature_ablation_repeats_per_example_layer_baselines():
    per_example = torch.rand(4, 8, generator=torch.Generator().manual_seed(1))
    tunnel = ll.NoiseTunnel(ll.LayerFeatureAblation(MODEL, MODEL[1])).attribute(
        X, target=0, layer_baselines=per_example, layer_mask=torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]), nt_samples=2, stdevs=0.0, seed=0
    )
    plain = ll.LayerFeatureAblation(MODEL, MODEL[1]).attribute(X, per_example, target=0, layer_mask=torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))
    close(tunnel.attributions, plain.attributions)
