"""NeuronDeepLift, NeuronDeepLiftShap and NeuronLRP: Captum's neuron DeepLift, and LRP of the model cut at the layer."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import Tensor, nn

from limelight.engine.propagation import LRP, Composite, Epsilon
from limelight.engine.propagation.neurons import NeuronDeepLift, NeuronDeepLiftShap, NeuronLRP

from .nets import MLP

captum = pytest.importorskip("captum.attr")


def draw(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def quiet(run):  # Captum warns about its hooks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run()


def test_neuron_deeplift_and_deeplift_shap_match_captum() -> None:
    model, x, b = MLP().double().eval(), draw(3, 6), draw(3, 6, seed=1)
    ours = NeuronDeepLift(model, model.act2).attribute(x, 3, b)
    theirs = quiet(lambda: captum.NeuronDeepLift(model, model.act2).attribute(x, 3, b))
    torch.testing.assert_close(ours.attributions, theirs.detach(), rtol=1e-5, atol=1e-8)
    assert ours.delta.abs().max() < 1e-10
    distribution = draw(4, 6, seed=2)
    shap = NeuronDeepLiftShap(model, model.act2).attribute(x, 3, distribution)
    theirs = quiet(lambda: captum.NeuronDeepLiftShap(model, model.act2).attribute(x, 3, distribution))
    torch.testing.assert_close(shap.attributions, theirs.detach(), rtol=1e-5, atol=1e-8)
    reveal = NeuronDeepLift(model, model.act2).attribute(x, 3, b, rule="reveal_cancel")
    assert reveal.delta.abs().max() < 1e-10 and not torch.allclose(reveal.attributions, ours.attributions)


def test_neuron_lrp_is_lrp_of_the_model_cut_at_the_layer() -> None:
    model, x = MLP().double().eval(), draw(3, 6)
    cut = nn.Sequential(model.fc1, model.act1, model.fc2)
    composite = Composite("test", dense=Epsilon(1e-6))
    ours = NeuronLRP(model, model.fc2, composite=composite).attribute(x, 5)
    torch.testing.assert_close(ours.attributions, LRP(cut, composite=composite).attribute(x, target=5).attributions)
    assert ours.method == "neuron_lrp" and ours.settings.neuron_selector == 5
    again = NeuronLRP(model, model.fc2).attribute(x, 5, composite=composite)  # per call, and the path is reset after the stop
    torch.testing.assert_close(again.attributions, ours.attributions)
