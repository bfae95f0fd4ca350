"""DeepLift, DeepLiftShap and LayerDeepLift: closed forms, completeness, Captum, reuse, refusals, chunking."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import Tensor

from limelight.engine.propagation import DeepLift, DeepLiftShap, LayerDeepLift
from limelight.errors import InvalidInputError
from tests.vision.cnns import Functional, ReusedReLU, TinyCNN

from .nets import MLP, MaxPoolCNN, Normalising, SmoothMLP, TwoLayer

captum = pytest.importorskip("captum.attr")


def close(ours: Tensor, theirs: Tensor) -> None:
    scale = float(theirs.detach().abs().max())
    assert scale > 0
    torch.testing.assert_close(ours, theirs.detach().to(ours.dtype), rtol=1e-5, atol=1e-5 * scale)


def quiet(run):  # Captum warns about its hooks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run()


def draw(*shape: int, seed: int = 0) -> Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_rescale_matches_the_hand_computation() -> None:
    model, x, b = (
        TwoLayer().double(),
        torch.tensor([[1.0, 0.5, 1.0]], dtype=torch.float64),
        torch.tensor([[0.0, 1.0, -1.0]], dtype=torch.float64),
    )
    w1, w2 = model.first.weight.data, model.second.weight.data[1]
    z, z0 = x[0] @ w1.T, b[0] @ w1.T
    multiplier = torch.where(z != z0, (z.clamp(min=0) - z0.clamp(min=0)) / (z - z0), (z > 0).double())
    expected = (x[0] - b[0]) * (w1.T @ (w2 * multiplier))
    result = DeepLift(model).attribute(x, b, target=1)
    torch.testing.assert_close(result.attributions[0], expected)
    torch.testing.assert_close(result.input_value, model(x)[:, 1])  # the rules never change the forward's values
    assert abs(float(result.delta[0])) < 1e-12


@pytest.mark.parametrize("net", [MLP, SmoothMLP, Normalising])
def test_sums_to_the_change_of_the_output(net) -> None:
    model = net().double().eval()
    x = draw(4, 5, 8) if net is Normalising else draw(4, 6)
    result = DeepLift(model).attribute(x, x.flip(0) * 0.5, target=1)
    change = result.input_value - result.baseline_value
    assert change.abs().min() > 1e-4
    assert result.delta.abs().max() < 1e-10


@pytest.mark.parametrize("net", [TinyCNN, MLP])
def test_deeplift_and_deeplift_shap_match_captum(net) -> None:
    model = net().double().eval()
    shape = (3, 3, 8, 8) if net is TinyCNN else (3, 6)
    x, b, distribution = draw(*shape), draw(*shape, seed=1) * 0.3, draw(5, *shape[1:], seed=2)
    close(DeepLift(model).attribute(x, b, target=2).attributions, quiet(lambda: captum.DeepLift(model).attribute(x, b, target=2)))
    ours = DeepLiftShap(model).attribute(x, distribution, target=2)
    close(ours.attributions, quiet(lambda: captum.DeepLiftShap(model).attribute(x, distribution, target=2)))
    assert ours.delta.abs().max() < 1e-10


@pytest.mark.parametrize("twin", [ReusedReLU, Functional])
def test_reused_modules_and_functional_activations_are_handled(twin) -> None:
    """Captum's DeepLift is silently wrong on both; here they give the separate-module network's answer."""
    x, b = draw(2, 3, 8, 8), draw(2, 3, 8, 8, seed=1)
    expected = quiet(lambda: captum.DeepLift(TinyCNN().double().eval()).attribute(x, b, target=1))
    result = DeepLift(twin().double().eval()).attribute(x, b, target=1)
    close(result.attributions, expected)
    assert result.delta.abs().max() < 1e-10


def test_max_pooling_routes_each_window_change_through_both_maxima() -> None:
    """Complete, where Captum's max-pool rule is not on this net (its convergence delta was 0.02-0.03 here)."""
    model = MaxPoolCNN().double().eval()
    x, b = draw(3, 3, 8, 8), draw(3, 3, 8, 8, seed=1) * 0.3
    result = DeepLift(model).attribute(x, b, target=1)
    assert result.delta.abs().max() < 1e-12
    torch.testing.assert_close(DeepLift(model).attribute(x, b, target=1, internal_batch_size=2).attributions, result.attributions)
    one = torch.nn.functional.max_pool1d
    pair = DeepLift(lambda t: one(t[:, None], 2)[:, 0]).attribute(
        torch.tensor([[3.0, 1.0]], dtype=torch.float64), torch.tensor([[0.0, 2.0]], dtype=torch.float64), target=0
    )
    # the window's change 3 - 2 = 1: max(3, 2) - 2 = 1 through the input's maximum (element 0, change 3), 3 - 3 = 0
    # through the baseline's (element 1, change -1): multipliers 1/3 and 0
    torch.testing.assert_close(pair.attributions, torch.tensor([[1.0, 0.0]], dtype=torch.float64))


def test_a_nonlinearity_without_a_rule_is_refused_naming_its_module() -> None:
    class Peak(torch.nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x.amax(1, keepdim=True)

    model = torch.nn.Sequential(torch.nn.Linear(4, 3), Peak())
    with pytest.raises(InvalidInputError, match=r"amax.*'1' \(Peak\)"):
        DeepLift(model.double()).attribute(draw(2, 4), target=0)


def test_division_by_an_attributed_tensor_is_refused() -> None:
    def forward(x: Tensor) -> Tensor:
        return x[:, :2] / (1 + x[:, 2:].square())

    with pytest.raises(InvalidInputError, match="DeepLift has no rule for"):
        DeepLift(forward).attribute(draw(3, 4), target=0)


def test_results_do_not_depend_on_the_batch_or_chunk_size() -> None:
    model, x, b = TinyCNN().double().eval(), draw(5, 3, 8, 8), draw(5, 3, 8, 8, seed=1)
    whole = DeepLift(model).attribute(x, b, target=3).attributions
    close(DeepLift(model).attribute(x, b, target=3, internal_batch_size=2).attributions, whole)
    close(DeepLift(model).attribute(x[2:3], b[2:3], target=3).attributions, whole[2:3])
    distribution = draw(3, 3, 8, 8, seed=2)
    shap = DeepLiftShap(model).attribute(x, distribution, target=3).attributions
    close(DeepLiftShap(model).attribute(x, distribution, target=3, internal_batch_size=3).attributions, shap)


def test_layer_deeplift_is_complete_at_the_layer() -> None:
    model, x = MLP().double().eval(), draw(3, 6)
    layer = LayerDeepLift(model, model.fc2).attribute(x, torch.zeros_like(x), target=0)
    assert layer.attributions.shape == (3, 8)
    assert layer.delta.abs().max() < 1e-10
    torch.testing.assert_close(layer.input_value, model(x)[:, 0])


def test_bad_baselines_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="distribution"):
        DeepLiftShap(MLP().double()).attribute(draw(2, 6), draw(6), target=0)
    with pytest.raises(InvalidInputError, match="needs a layer"):
        LayerDeepLift(MLP(), None)  # type: ignore[arg-type]
