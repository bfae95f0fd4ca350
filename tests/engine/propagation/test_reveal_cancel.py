"""DeepLift's RevealCancel rule: the paper's min example, a hand computation, completeness, agreement with Rescale."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from limelight.engine.propagation import DeepLift, DeepLiftShap, LayerDeepLift
from limelight.errors import InvalidInputError

from .nets import MLP, ModuleCNN, SmoothMLP, TwoLayer


def draw(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


class Minimum(nn.Module):
    """``min(x1, x2) = x1 - relu(x1 - x2)`` (Shrikumar et al. 2017, figure 3)."""

    def __init__(self) -> None:
        super().__init__()
        self.difference = nn.Linear(2, 1, bias=False)
        self.difference.weight.data = torch.tensor([[1.0, -1.0]])
        self.out = nn.Linear(3, 1, bias=False)
        self.out.weight.data = torch.tensor([[1.0, 0.0, -1.0]])

    def forward(self, x: Tensor) -> Tensor:
        return self.out(torch.cat([x, torch.relu(self.difference(x))], 1))


def test_the_papers_minimum_example() -> None:
    """Rescale credits the minimum to x2 alone; RevealCancel sees both inputs' cancelling effects and splits it."""
    model, x, b = Minimum().double(), torch.tensor([[3.0, 1.0]], dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64)
    rescale = DeepLift(model).attribute(x, b, target=0)
    reveal = DeepLift(model, rule="reveal_cancel").attribute(x, b, target=0)
    torch.testing.assert_close(rescale.attributions[0], torch.tensor([0.0, 1.0], dtype=torch.float64))
    # dx+ = 3, dx- = -1: dy+ = (relu(3) - 0)/2 + (relu(2) - relu(-1))/2 = 2.5, dy- = (relu(-1) - 0)/2 + (relu(2) - relu(3))/2 = -0.5
    # x1 reaches h through dx+ (m+ = 2.5/3), x2 through dx- (m- = 0.5): x1 gets 3 - 2.5 = 0.5, x2 gets 0.5
    torch.testing.assert_close(reveal.attributions[0], torch.tensor([0.5, 0.5], dtype=torch.float64))
    assert reveal.settings.rule == "reveal_cancel" and rescale.settings.rule == "rescale"


def reveal_cancel_by_hand(w1: Tensor, w2: Tensor, b1: Tensor, x: Tensor, b: Tensor) -> Tensor:
    """``w2 . relu(W1 x + b1)`` with RevealCancel, neuron by neuron and input by input."""
    dx = x - b
    attributions = torch.zeros_like(x)
    for k in range(w1.shape[0]):
        contributions = [float(w1[k, i] * dx[i]) for i in range(len(x))]
        up, down = sum(c for c in contributions if c > 0), sum(c for c in contributions if c < 0)
        z0 = float(w1[k] @ b + b1[k])
        relu = lambda v: max(v, 0.0)  # noqa: E731
        rise = 0.5 * (relu(z0 + up) - relu(z0)) + 0.5 * (relu(z0 + up + down) - relu(z0 + down))
        fall = 0.5 * (relu(z0 + down) - relu(z0)) + 0.5 * (relu(z0 + up + down) - relu(z0 + up))
        for i, c in enumerate(contributions):
            if c > 0:
                attributions[i] += float(w2[k]) * c * rise / up
            elif c < 0:
                attributions[i] += float(w2[k]) * c * fall / down
    return attributions


def test_a_two_layer_relu_net_matches_the_hand_computation() -> None:
    model = TwoLayer().double()
    model.first.bias = nn.Parameter(torch.tensor([0.5, -1.0, 0.25, -0.5], dtype=torch.float64))
    x, b = torch.tensor([[1.0, 0.5, 1.0], [-1.0, 2.0, 0.5]], dtype=torch.float64), torch.tensor([[0.0, 1.0, -1.0]], dtype=torch.float64)
    result = DeepLift(model, rule="reveal_cancel").attribute(x, b.expand(2, 3), target=1)
    w1, w2 = model.first.weight.data, model.second.weight.data[1]
    for row in range(2):
        torch.testing.assert_close(result.attributions[row], reveal_cancel_by_hand(w1, w2, model.first.bias.data, x[row], b[0]))
    assert result.delta.abs().max() < 1e-12
    assert not torch.allclose(result.attributions, DeepLift(model).attribute(x, b.expand(2, 3), target=1).attributions)


@pytest.mark.parametrize("net", [MLP, SmoothMLP, ModuleCNN])
def test_sums_to_the_change_of_the_output(net) -> None:
    """tanh, ReLU, sigmoid, SiLU, GELU, a product, a module used twice, convolutions: summation-to-delta holds."""
    model = net().double().eval()
    x = draw(3, 3, 8, 8) if net is ModuleCNN else draw(4, 6)
    result = DeepLift(model, rule="reveal_cancel").attribute(x, x.flip(0) * 0.5, target=1)
    change = result.input_value - result.baseline_value
    assert change.abs().min() > 1e-4
    assert result.delta.abs().max() < 1e-10
    assert not torch.allclose(result.attributions, DeepLift(model).attribute(x, x.flip(0) * 0.5, target=1).attributions)


def test_equals_rescale_when_every_change_has_one_sign() -> None:
    """Positive weights and inputs above the baseline: no negative part, and RevealCancel is Rescale."""
    model = TwoLayer().double()
    model.first.weight.data = model.first.weight.data.abs()
    x, b = draw(4, 3).abs() + 0.1, -draw(4, 3, seed=1).abs()
    rescale = DeepLift(model).attribute(x, b, target=0).attributions
    torch.testing.assert_close(DeepLift(model, rule="reveal_cancel").attribute(x, b, target=0).attributions, rescale)


def test_deeplift_shap_layer_deeplift_and_in_place_activations() -> None:
    model, x = MLP().double().eval(), draw(3, 6)
    distribution = draw(4, 6, seed=2)
    shap = DeepLiftShap(model, rule="reveal_cancel").attribute(x, distribution, target=0)
    assert shap.delta.abs().max() < 1e-10
    per_baseline = [DeepLift(model).attribute(x, distribution[i : i + 1].expand(3, 6), target=0, rule="reveal_cancel") for i in range(4)]
    torch.testing.assert_close(shap.attributions, sum(r.attributions for r in per_baseline) / 4)
    layer = LayerDeepLift(model, model.act1, rule="reveal_cancel").attribute(x, x.flip(0), target=0)
    assert layer.attributions.shape == (3, 8) and layer.delta.abs().max() < 1e-10
    model.act2 = nn.ReLU(inplace=True)
    torch.testing.assert_close(DeepLift(model).attribute(x, target=0, rule="reveal_cancel").attributions, per_call(model, x))


def per_call(model: MLP, x: Tensor) -> Tensor:
    model.act2 = nn.ReLU()
    return DeepLift(model, rule="reveal_cancel").attribute(x, target=0).attributions


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="rule must be one of"):
        DeepLift(MLP(), rule="revealcancel")
