"""LRP through convolution subclasses that pad in their own forward (TensorFlow-style "same" padding).

The oracle: the same weights as a stock ``nn.ZeroPad2d`` + ``nn.Conv2d`` pair give the same
relevance under every rule, including those that recompute the layer (z+, alpha-beta, gamma, flat).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limelight.engine.gradient import InputXGradient
from limelight.engine.propagation import LRP, AlphaBeta, Composite, Epsilon, Flat, Gamma, ZPlus
from limelight.errors import LayerError


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's "same": the output has ``ceil(size / stride)`` cells; the odd pixel of padding goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class StaticSame(nn.Conv2d):
    """A padding module built for one input size, applied in the forward (as EfficientNet's static convolution)."""

    def __init__(self, channels: int, out: int, kernel: int, stride: int, size: int) -> None:
        super().__init__(channels, out, kernel, stride, bias=False)
        low, high = same_padding(size, kernel, stride)
        self.static_padding = nn.ZeroPad2d((low, high, low, high))

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(self.static_padding(x), self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class DynamicSame(nn.Conv2d):
    """``F.pad`` computed from the input's size in the forward."""

    def forward(self, x: Tensor) -> Tensor:
        low, high = same_padding(x.shape[-1], self.kernel_size[0], self.stride[0])
        return F.conv2d(F.pad(x, [low, high, low, high]), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class Standardised(nn.Conv2d):
    """Weight standardisation in the forward: not a convolution with the module's weight."""

    def forward(self, x: Tensor) -> Tensor:
        weight = (self.weight - self.weight.mean()) / self.weight.std()
        return F.conv2d(x, weight, self.bias, self.stride, self.padding)


class Activated(nn.Conv2d):
    """A rectifier inside the convolution's forward: the layer is not linear."""

    def forward(self, x: Tensor) -> Tensor:
        return self._conv_forward(x, self.weight, self.bias).relu()


def net(first: nn.Module, second: nn.Module) -> nn.Sequential:
    return nn.Sequential(first, nn.ReLU(), second, nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3, bias=False))


def padded_and_stock(kind: type[nn.Conv2d]) -> tuple[nn.Module, nn.Module]:
    """A bias-free ReLU net with two same-padded stride-2 convolutions of ``kind``, and its stock twin."""
    torch.manual_seed(0)
    if kind is StaticSame:
        padded = net(StaticSame(3, 4, 3, 2, 16), StaticSame(4, 4, 3, 2, 8))
    else:
        padded = net(DynamicSame(3, 4, 3, 2, bias=False), DynamicSame(4, 4, 3, 2, bias=False))
    stock = net(
        nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 4, 3, 2, bias=False)),
        nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(4, 4, 3, 2, bias=False)),
    )
    stock[0][1].weight.data.copy_(padded[0].weight)
    stock[2][1].weight.data.copy_(padded[2].weight)
    stock[5].weight.data.copy_(padded[5].weight)
    return padded.double().eval(), stock.double().eval()


def draw(*shape: int) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


RULES = [ZPlus(), AlphaBeta(2.0, 1.0), Gamma(0.25), Epsilon(1e-6)]


@pytest.mark.parametrize("kind", [StaticSame, DynamicSame])
@pytest.mark.parametrize("rule", RULES, ids=repr)
def test_a_same_padded_convolution_gets_the_rule_of_its_padded_twin(kind, rule) -> None:
    padded, stock = padded_and_stock(kind)
    x = draw(2, 3, 16, 16)
    torch.testing.assert_close(padded(x), stock(x))
    rules = Composite("test", dense=Epsilon(0.0), conv=rule)
    ours = LRP(padded, composite=rules).attribute(x, target=1)
    twin = LRP(stock, composite=rules).attribute(x, target=1)
    torch.testing.assert_close(ours.attributions, twin.attributions, rtol=1e-10, atol=1e-12)
    if not isinstance(rule, AlphaBeta) or isinstance(rule, ZPlus):  # alpha2-beta1 conserves only where both signs occur
        assert (ours.delta.abs() <= 1e-4 * ours.input_value.abs()).all(), ours.delta


@pytest.mark.parametrize("kind", [StaticSame, DynamicSame])
def test_recomputed_lrp_0_on_a_padded_net_is_gradient_times_input(kind) -> None:
    """Gamma with gamma = epsilon = 0 is LRP-0 computed by recomputing the layer, so the padding must be applied."""
    padded, _ = padded_and_stock(kind)
    x = draw(3, 3, 16, 16)
    expected = InputXGradient(padded).attribute(x, target=2).attributions
    for rule in (Gamma(0.0, epsilon=0.0), Epsilon(0.0)):
        result = LRP(padded, composite=Composite("test", dense=Epsilon(0.0), conv=rule)).attribute(x, target=2)
        torch.testing.assert_close(result.attributions, expected)
        assert result.delta.abs().max() < 1e-10


def test_a_first_layer_rule_sees_the_padding() -> None:
    """Stride 1, kernel 3: "same" is one pixel on every side, so a stock ``Conv2d(padding=1)`` is the twin."""
    torch.manual_seed(0)
    padded = nn.Sequential(StaticSame(3, 4, 3, 1, 8), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3, bias=False)).double().eval()
    stock = nn.Sequential(nn.Conv2d(3, 4, 3, 1, padding=1, bias=False), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3, bias=False))
    stock.load_state_dict(padded.state_dict())
    stock = stock.double().eval()
    x = draw(2, 3, 8, 8)
    rules = Composite("test", dense=Epsilon(0.0), conv=ZPlus(), first=Flat())
    ours, twin = LRP(padded, composite=rules).attribute(x, target=0), LRP(stock, composite=rules).attribute(x, target=0)
    torch.testing.assert_close(ours.attributions, twin.attributions, rtol=1e-10, atol=1e-12)
    assert (ours.delta.abs() <= 1e-4 * ours.input_value.abs()).all(), ours.delta


@pytest.mark.parametrize("kind", [Standardised, Activated])
def test_a_convolution_whose_forward_is_not_pad_then_convolve_is_refused(kind) -> None:
    model = net(kind(3, 4, 3, 2, padding=1, bias=False), nn.Conv2d(4, 4, 3, 2, padding=1, bias=False)).double().eval()
    with pytest.raises(LayerError, match=rf"{kind.__name__}\(3, 4, kernel_size=\(3, 3\).*own forward"):
        LRP(model, composite=Composite("test", dense=Epsilon(0.0), conv=ZPlus())).attribute(draw(1, 3, 16, 16), target=0)
    # the epsilon rule uses the layer's own gradient and recomputes nothing, so it still runs
    LRP(model, composite=Composite("test", dense=Epsilon(0.0), conv=Epsilon(1e-6))).attribute(draw(1, 3, 16, 16), target=0)
