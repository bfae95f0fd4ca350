"""BatchNorm canonization: LRP on a net with BatchNorms equals LRP on its hand-merged twin, and nothing is left changed."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from limelight.engine.propagation import LRP, BatchNormCanonizer, Composite, DeepLift, Epsilon, Gamma, LayerLRP, ZPlus
from limelight.errors import InvalidInputError, LayerError


def _randomise(norm: nn.modules.batchnorm._BatchNorm) -> None:
    """Non-trivial statistics and affine parameters, with negative scales on some channels."""
    n = norm.num_features
    with torch.no_grad():
        norm.weight.copy_(torch.randn(n) + torch.where(torch.arange(n) % 2 == 0, -0.5, 0.5))
        norm.bias.copy_(torch.randn(n))
        norm.running_mean.copy_(torch.randn(n))
        norm.running_var.copy_(torch.rand(n) + 0.3)


class ConvBN(nn.Module):
    """conv -> BN -> ReLU -> conv -> BN -> ReLU -> mean pool -> linear -> BN1d -> ReLU -> linear, in eval mode."""

    def __init__(self, bias: bool = True, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1, self.bn1 = nn.Conv2d(3, 5, 3, padding=1, bias=bias), nn.BatchNorm2d(5)
        self.conv2, self.bn2 = nn.Conv2d(5, 6, 3, padding=1, bias=bias), nn.BatchNorm2d(6)
        self.fc1, self.bn3 = nn.Linear(6, 7, bias=bias), nn.BatchNorm1d(7)
        self.fc2 = nn.Linear(7, 3, bias=bias)
        for norm in (self.bn1, self.bn2, self.bn3):
            _randomise(norm)
        self.double().eval()

    def pairs(self) -> list[tuple[nn.Module, str]]:
        return [(self.conv1, "bn1"), (self.conv2, "bn2"), (self.fc1, "bn3")]

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
        return self.fc2(F.relu(self.bn3(self.fc1(h.mean((2, 3))))))


def merged_twin(net: ConvBN) -> ConvBN:
    """``net`` with each BatchNorm folded into its layer by hand and replaced by an identity."""
    twin = copy.deepcopy(net)
    for layer, name in twin.pairs():
        norm = getattr(twin, name)
        scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
        bias = layer.bias if layer.bias is not None else torch.zeros_like(scale)
        shape = (-1,) + (1,) * (layer.weight.dim() - 1)
        layer.weight = nn.Parameter((layer.weight * scale.reshape(shape)).detach())
        layer.bias = nn.Parameter(((bias - norm.running_mean) * scale + norm.bias).detach())
        setattr(twin, name, nn.Identity())
    return twin


def snapshot(net: nn.Module) -> dict[str, tuple[Tensor, Tensor, bool]]:
    """Every parameter and buffer: the object, a copy of its bits, its requires_grad."""
    state = {f"p:{k}": v for k, v in net.named_parameters()} | {f"b:{k}": v for k, v in net.named_buffers()}
    return {k: (v, v.detach().clone(), v.requires_grad) for k, v in state.items()}


def hooks(net: nn.Module) -> list[int]:
    return [len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in net.modules()]


def assert_restored(net: nn.Module, before: dict[str, tuple[Tensor, Tensor, bool]], hook_counts: list[int]) -> None:
    after = snapshot(net)
    assert after.keys() == before.keys()
    for key, (obj, bits, grad) in before.items():
        now = after[key][0]
        assert now is obj, key
        assert torch.equal(now.detach().flatten().view(torch.uint8), bits.flatten().view(torch.uint8)), key
        assert now.requires_grad == grad, key
    assert hooks(net) == hook_counts


def images(n: int = 2) -> Tensor:
    torch.manual_seed(1)
    return torch.randn(n, 3, 8, 8, dtype=torch.float64)


COMPOSITES = ["epsilon_plus", "epsilon_plus_flat", "epsilon_alpha2_beta1", "epsilon_gamma_box", "epsilon"]


@pytest.mark.parametrize("composite", COMPOSITES)
def test_canonized_lrp_equals_lrp_on_the_hand_merged_twin(composite) -> None:
    net, x = ConvBN(), images()
    result = LRP(net, composite=composite).attribute(x, target=1)
    twin = LRP(merged_twin(net), composite=composite).attribute(x, target=1)
    torch.testing.assert_close(result.attributions, twin.attributions, atol=1e-6, rtol=0)
    torch.testing.assert_close(result.delta, twin.delta, atol=1e-6, rtol=0)
    assert (result.settings.canonize, result.settings.merged_batchnorms, result.settings.kept_batchnorms) == (True, 3, ())
    plain = LRP(net, composite=composite, canonize=False).attribute(x, target=1)
    assert plain.settings.merged_batchnorms == 0
    if composite != "epsilon":  # LRP-epsilon is gradient x input up to epsilon, the same either way
        assert (plain.attributions - result.attributions).abs().max() > 1e-3


@pytest.mark.parametrize("rule", [ZPlus(), Gamma(0.25), Epsilon(0.0)])
def test_a_bias_free_net_whose_batchnorms_shift_nothing_conserves_relevance(rule) -> None:
    net, x = ConvBN(bias=False), images()
    for _, name in net.pairs():  # beta = mean * s: the merged layer has no bias
        norm = getattr(net, name)
        with torch.no_grad():
            norm.bias.copy_(norm.running_mean * norm.weight / torch.sqrt(norm.running_var + norm.eps))
    result = LRP(net, composite=Composite("test", dense=Epsilon(0.0), conv=rule)).attribute(x, target=0)
    assert result.settings.merged_batchnorms == 3
    assert result.delta.abs().max() < 1e-5  # epsilon = 1e-6 in the gamma rule's denominators
    torch.testing.assert_close(result.attributions.sum((1, 2, 3)), net(x)[:, 0].detach(), atol=1e-5, rtol=0)


def test_parameters_and_hooks_are_restored_bitwise_after_a_call() -> None:
    net, x = ConvBN(), images()
    before, counts = snapshot(net), hooks(net)
    LRP(net).attribute(x, target=0)
    assert_restored(net, before, counts)


def test_parameters_and_hooks_are_restored_after_an_exception_inside_the_forward() -> None:
    net, x = ConvBN(), images()
    original = net.conv1.weight
    before, counts = snapshot(net), hooks(net)

    def failing(inputs: Tensor) -> Tensor:
        if net.conv1.weight is not original and torch.is_grad_enabled():  # merged, in the attribution's own pass
            raise RuntimeError("boom")
        return net(inputs)

    with pytest.raises(RuntimeError, match="boom"):
        LRP(failing).attribute(x, target=0)
    assert_restored(net, before, counts)
    with pytest.raises(RuntimeError, match="boom"), BatchNormCanonizer().applied([net], lambda: net(x)) as done:
        assert done.merged == ("bn1", "bn2", "bn3")
        raise RuntimeError("boom")
    assert_restored(net, before, counts)


class Residual(ConvBN):
    """``relu(bn1(h)) + h`` for ``h = conv1(x)``: conv1's output is also used by the residual sum."""

    def forward(self, x: Tensor) -> Tensor:
        h = self.conv1(x)
        h = F.relu(self.bn2(self.conv2(F.relu(self.bn1(h)) + h)))
        return self.fc2(F.relu(self.bn3(self.fc1(h.mean((2, 3))))))


def test_a_layer_whose_output_is_also_used_elsewhere_is_left_unmerged() -> None:
    net, x = Residual(), images()
    result = LRP(net).attribute(x, target=2)
    assert result.settings.merged_batchnorms == 2
    (kept,) = result.settings.kept_batchnorms
    assert kept.startswith("bn1: ") and "used elsewhere" in kept
    with BatchNormCanonizer().applied([net], lambda: net(x)):  # never silently wrong: the output is the plain model's
        merged = net(x)
    torch.testing.assert_close(merged, net(x), atol=1e-12, rtol=0)
    attributed = LayerLRP(net, net.conv2).attribute(x, target=2)  # the attributed layer's value must stay what it is
    assert any(k.startswith("bn2: ") for k in attributed.settings.kept_batchnorms)


def test_a_merge_that_changes_the_output_is_refused_naming_the_batchnorm() -> None:
    net, x = ConvBN(), images()

    def reads_the_weight(inputs: Tensor) -> Tensor:  # a use of conv2's parameters the trace cannot see
        return net(inputs) + net.conv2.weight.sum()

    with pytest.raises(LayerError, match=r"\['bn2'\].*canonize=False"):
        LRP(reads_the_weight).attribute(x, target=0)
    LRP(reads_the_weight, canonize=False).attribute(x, target=0)
    with pytest.raises(InvalidInputError, match="canonize must be True or False"):
        LRP(net, canonize="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="tolerance"):
        BatchNormCanonizer(tolerance=0)


def test_batchnorm_in_training_mode_is_refused_and_eval_mode_is_the_default() -> None:
    net, x = ConvBN(), images(3)
    net.train()
    with pytest.raises(LayerError, match="'bn1'.*statistics of the batch"):
        LRP(net, eval_mode=False, check_forward=False).attribute(x, target=0, internal_batch_size=3)
    stats = net.bn1.running_mean.clone()
    with pytest.warns(Warning, match="training mode"):
        result = LRP(net).attribute(x, target=0)  # eval_mode=True: the running statistics, merged
    assert result.settings.merged_batchnorms == 3 and net.training and net.bn1.training
    assert torch.equal(net.bn1.running_mean, stats)


class DenseBN(nn.Module):
    """Linear -> BatchNorm1d -> ReLU -> Linear."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.fc1, self.bn, self.fc2 = nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Linear(6, 2)
        _randomise(self.bn)
        self.double().eval()

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.relu(self.bn(self.fc1(x))))


def test_batchnorm1d_after_a_linear_layer_is_merged() -> None:
    net = DenseBN()
    torch.manual_seed(2)
    x = torch.randn(4, 4, dtype=torch.float64)
    twin = copy.deepcopy(net)
    scale = net.bn.weight / torch.sqrt(net.bn.running_var + net.bn.eps)
    twin.fc1.weight = nn.Parameter((net.fc1.weight * scale[:, None]).detach())
    twin.fc1.bias = nn.Parameter(((net.fc1.bias - net.bn.running_mean) * scale + net.bn.bias).detach())
    twin.bn = nn.Identity()
    rules = Composite("test", dense=ZPlus())
    result = LRP(net, composite=rules).attribute(x, target=1)
    assert result.settings.merged_batchnorms == 1
    torch.testing.assert_close(result.attributions, LRP(twin, composite=rules).attribute(x, target=1).attributions, atol=1e-6, rtol=0)


def test_canonized_results_do_not_depend_on_the_batch() -> None:
    net, x = ConvBN(), images(3)
    method = LRP(net, composite="epsilon_gamma_box")
    whole = method.attribute(x, target=1).attributions
    one_by_one = torch.cat([method.attribute(x[i : i + 1], target=1).attributions for i in range(3)])
    torch.testing.assert_close(whole, one_by_one, atol=1e-10, rtol=0)


def test_deeplift_needs_no_canonization() -> None:
    """DeepLift's multiplier through conv -> BN is the merged layer's, so the twin gives the same attributions."""
    net, x = ConvBN(), images()
    ours = DeepLift(net).attribute(x, target=1).attributions
    torch.testing.assert_close(ours, DeepLift(merged_twin(net)).attribute(x, target=1).attributions, atol=1e-8, rtol=0)
