"""LRP and LayerLRP: LRP-0 = gradient x input, epsilon limits, conservation per rule, Captum, first-layer rules."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import Tensor, nn

from limelight.engine.gradient import InputXGradient
from limelight.engine.propagation import (
    COMPOSITES,
    LRP,
    AlphaBeta,
    Composite,
    Epsilon,
    Flat,
    Gamma,
    LayerLRP,
    WSquare,
    ZBox,
    ZPlus,
)
from limelight.engine.propagation.composites import default_composite
from limelight.errors import InvalidInputError, LayerError
from tests.vision.cnns import TinyCNN

from .nets import MLP, ModuleCNN, Normalising, TwoLayer

captum = pytest.importorskip("captum.attr")


def draw(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def everywhere(rule) -> Composite:
    return Composite("test", dense=rule, conv=rule)


def test_lrp_0_is_gradient_times_input() -> None:
    """On a bias-free ReLU net LRP-0 is gradient x input, and conserves the output exactly."""
    model, x = ModuleCNN(bias=False).double().eval(), draw(4, 3, 8, 8)
    result = LRP(model, composite=everywhere(Epsilon(0.0))).attribute(x, target=1)
    torch.testing.assert_close(result.attributions, InputXGradient(model).attribute(x, target=1).attributions)
    assert result.delta.abs().max() < 1e-12
    torch.testing.assert_close(result.input_value, model(x)[:, 1])


def test_epsilon_tends_to_lrp_0_and_absorbs_more_as_it_grows() -> None:
    model, x = TwoLayer().double(), draw(3, 3)
    zero = LRP(model, composite=everywhere(Epsilon(0.0))).attribute(x, target=0).attributions
    gaps = [
        float((LRP(model, composite=everywhere(Epsilon(e))).attribute(x, target=0).attributions - zero).abs().max())
        for e in (1e-1, 1e-3, 1e-6)
    ]
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-5
    absorbed = [
        float(LRP(model, composite=everywhere(Epsilon(e))).attribute(x, target=0).attributions.abs().sum()) for e in (0.0, 1.0, 100.0)
    ]
    assert absorbed[0] > absorbed[1] > absorbed[2]


def test_z_plus_matches_the_hand_computation() -> None:
    model, x = TwoLayer().double(), torch.tensor([[1.0, 0.5, -1.0]], dtype=torch.float64)
    w1, w2 = model.first.weight.data, model.second.weight.data[0]
    hidden = (x[0] @ w1.T).clamp(min=0)
    relevance_hidden = hidden * w2  # the top layer is epsilon (~LRP-0): R_k = h_k w_k
    contributions = x[0][None, :] * w1  # (k, j)
    positive = contributions.clamp(min=0)
    expected = (positive / positive.sum(1, keepdim=True).clamp(min=1e-12) * relevance_hidden[:, None]).sum(0)
    composite = Composite("test", layers={"first": ZPlus(), "second": Epsilon(0.0)})
    torch.testing.assert_close(LRP(model, composite=composite).attribute(x, target=0).attributions[0], expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("rule", [Epsilon(1e-6), Gamma(0.25), AlphaBeta(1.0, 0.0), ZPlus()], ids=repr)
def test_every_rule_conserves_relevance_on_a_bias_free_relu_cnn(rule) -> None:
    """Up to what the stabiliser (1e-6) absorbs. Alpha-beta with beta > 0 conserves only where both signs occur."""
    model, x = ModuleCNN(bias=False).double().eval(), draw(3, 3, 8, 8)
    result = LRP(model, composite=Composite("test", dense=Epsilon(0.0), conv=rule)).attribute(x, target=2)
    assert (result.delta.abs() <= 1e-4 * result.input_value.abs()).all(), result.delta
    two_one = LRP(model, composite=Composite("test", dense=Epsilon(0.0), conv=AlphaBeta(2.0, 1.0))).attribute(x, target=2)
    assert not torch.allclose(two_one.attributions, result.attributions)


@pytest.mark.parametrize("first", [Flat(), WSquare(), ZBox(-4.0, 4.0)], ids=repr)
def test_first_layer_rules_hand_their_relevance_to_the_input(first) -> None:
    model, x = ModuleCNN(bias=False).double().eval(), draw(2, 3, 8, 8)
    x[:, :, :2] = 0.0  # zero inputs still receive relevance from flat and w-square: it cannot be x * gradient
    result = LRP(model, composite=Composite("test", dense=Epsilon(0.0), conv=Epsilon(0.0), first=first)).attribute(x, target=1)
    assert (result.delta.abs() <= 1e-4 * result.input_value.abs()).all(), result.delta
    if not isinstance(first, ZBox):
        assert result.attributions[:, :, :2].abs().sum() > 0


def test_flat_and_w_square_match_their_closed_forms() -> None:
    layer = nn.Linear(3, 2, bias=False).double()
    layer.weight.data = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 3.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0, -1.0]], dtype=torch.float64)
    out = layer(x)[0, 1]  # relevance of output 1 is its value
    for rule, weights in ((Flat(), torch.ones(3, dtype=torch.float64)), (WSquare(), layer.weight.data[1] ** 2)):
        result = LRP(layer, composite=Composite("test", first=rule)).attribute(x, target=1)
        torch.testing.assert_close(result.attributions[0], out * weights / weights.sum())


def test_a_first_layer_rule_on_a_computed_tensor_is_refused() -> None:
    class Scaled(TinyCNN):
        def forward(self, x: Tensor) -> Tensor:
            return super().forward(x * 2)

    with pytest.raises(LayerError, match="flat.*no layer with weights takes the model's input"):
        LRP(Scaled().double(), composite=Composite("test", first=Flat())).attribute(draw(1, 3, 8, 8), target=0)


@pytest.mark.parametrize("net", [ModuleCNN, MLP])
def test_epsilon_matches_captum(net) -> None:
    """Captum's LRP uses epsilon = 1e-9 on every layer and passes relevance through activations: the same rules."""
    model = net().double().eval()
    x = draw(3, 3, 8, 8) if net is ModuleCNN else draw(3, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = captum.LRP(model).attribute(x, target=1).detach()
    ours = LRP(model, composite=everywhere(Epsilon(1e-9))).attribute(x, target=1).attributions
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5 * float(theirs.abs().max()))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("net", [ModuleCNN, MLP])
def test_gamma_and_epsilon_per_layer_match_captum(net, bias) -> None:
    """Captum's GammaRule keeps the bias and stabilises by its epsilon: Gamma(gamma, epsilon, modify_bias=False)."""
    from captum.attr._utils.lrp_rules import EpsilonRule, GammaRule

    model = net(bias=bias).double().eval()
    x = draw(3, 3, 8, 8) if net is ModuleCNN else draw(3, 6)
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    pairs = [
        (GammaRule(0.25), Gamma(0.25, 1e-9, modify_bias=False)),
        (EpsilonRule(0.01), Epsilon(0.01)),
        (EpsilonRule(1e-9), Epsilon(1e-9)),
    ]
    for (_, module), (theirs_rule, _) in zip(layers, pairs):
        module.rule = theirs_rule
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = captum.LRP(model).attribute(x, target=1).detach()
    composite = Composite("test", layers={name: ours_rule for (name, _), (_, ours_rule) in zip(layers, pairs)})
    ours = LRP(model, composite=composite).attribute(x, target=1).attributions
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5 * float(theirs.abs().max()))
    if bias:  # the default Gamma modifies the bias too (zennit's convention): a different result
        zennit_like = {name: Gamma(0.25, 1e-9) if i == 0 else rule for i, (name, rule) in enumerate(composite.layers.items())}
        assert not torch.allclose(LRP(model, composite=Composite("test", layers=zennit_like)).attribute(x, target=1).attributions, theirs)


def test_results_do_not_depend_on_the_batch_or_chunk_size() -> None:
    model, x = TinyCNN().double().eval(), draw(5, 3, 8, 8)
    method = LRP(model, composite="epsilon_gamma_box")
    whole = method.attribute(x, target=3).attributions
    torch.testing.assert_close(method.attribute(x, target=3, internal_batch_size=2).attributions, whole)
    torch.testing.assert_close(method.attribute(x[1:2], target=3).attributions, whole[1:2])


def test_the_default_composite_follows_the_model_family() -> None:
    assert default_composite([TinyCNN()]) == "epsilon_plus"
    assert default_composite([MLP()]) == "epsilon"
    assert default_composite([Normalising()]) == "transformer"
    assert LRP(TinyCNN()).composite.name == "epsilon_plus"
    assert set(COMPOSITES) >= {"epsilon_plus", "epsilon_gamma_box", "transformer"}
    with pytest.raises(InvalidInputError, match="unknown LRP composite"):
        LRP(TinyCNN(), composite="nope")


def test_transformer_rules_conserve_on_a_bias_free_block() -> None:
    """Constant normalising scale and attention softmax, uniform products: a bias-free block conserves exactly."""
    model = Normalising().double().eval()
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.LayerNorm)):
            module.bias = None
    x = draw(3, 5, 8)
    result = LRP(model).attribute(x, target=0)
    assert result.settings.composite.startswith("transformer")
    assert result.delta.abs().max() < 1e-5  # what epsilon = 1e-6 absorbs


def test_layer_lrp_gives_the_relevance_of_a_layer() -> None:
    model, x = MLP(bias=False).double().eval(), draw(3, 6)
    layer = LayerLRP(model, model.act1, composite=everywhere(Epsilon(0.0))).attribute(x, target=0)
    assert layer.attributions.shape == (3, 8)
    assert layer.delta.abs().max() < 1e-12
