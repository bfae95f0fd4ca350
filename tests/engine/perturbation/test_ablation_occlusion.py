"""Feature ablation and occlusion on linear models, where both have closed forms."""

import math

import pytest
import torch

from limelight import FeatureAblation, Occlusion
from limelight.errors import InvalidInputError

from ..models import Linear

X = torch.randn(4, 5)
B = torch.randn(4, 5)


def test_ablation_of_a_linear_model_is_w_times_x_minus_b():
    model = Linear().eval()
    result = FeatureAblation(model).attribute(X, B, target=2)
    torch.testing.assert_close(result.attributions, (X - B) * model.weight[:, 2].detach())
    torch.testing.assert_close(result.input_value, model(X)[:, 2].detach().double())
    assert result.delta is None and result.method == "feature_ablation"
    assert result.extras.evaluations == 4 * (5 + 1)


def test_ablating_a_group_removes_all_its_elements_at_once():
    product = lambda x: x[:, 0] * x[:, 1] + x[:, 2]  # noqa: E731
    x = torch.tensor([[2.0, 3.0, 5.0]])
    alone = FeatureAblation(product).attribute(x).attributions
    grouped = FeatureAblation(product).attribute(x, feature_mask=torch.tensor([0, 0, 1])).attributions
    torch.testing.assert_close(alone, torch.tensor([[6.0, 6.0, 5.0]]))
    torch.testing.assert_close(grouped, torch.tensor([[6.0, 6.0, 5.0]]))
    torch.testing.assert_close(
        FeatureAblation(lambda x: x[:, 0] + x[:, 1]).attribute(x, feature_mask=torch.tensor([0, 0, 1])).attributions,
        torch.tensor([[5.0, 5.0, 0.0]]),
    )


def test_occlusion_with_unit_windows_on_a_linear_model_is_w_times_x_minus_b():
    model = Linear().eval()
    result = Occlusion(model).attribute(X, B, target=0, sliding_window_shapes=(1,))
    torch.testing.assert_close(result.attributions, (X - B) * model.weight[:, 0].detach())


def _window_starts(length: int, window: int, stride: int) -> list[int]:
    """Every stride until a window reaches the end (the last one may overhang it and is clipped)."""
    return list(range(0, stride * math.ceil((length - window) / stride) + 1, stride))


def _occlusion_oracle(contributions: torch.Tensor, window: int, stride: int) -> torch.Tensor:
    """The definition for one 1-D input of a linear model: mean drop over the windows covering each element."""
    sums, counts = torch.zeros_like(contributions), torch.zeros(contributions.shape[1])
    for start in _window_starts(contributions.shape[1], window, stride):
        sums[:, start : start + window] += contributions[:, start : start + window].sum(1, keepdim=True)
        counts[start : start + window] += 1
    return sums / counts


@pytest.mark.parametrize("window, stride", [(2, 1), (3, 1), (2, 2), (3, 3), (3, 2), (4, 3)])
def test_occlusion_averages_the_drop_of_the_windows_covering_each_element(window, stride):
    model = Linear().eval()
    result = Occlusion(model).attribute(X, B, target=1, sliding_window_shapes=(window,), strides=stride)
    expected = _occlusion_oracle((X - B) * model.weight[:, 1].detach(), window, stride)
    torch.testing.assert_close(result.attributions, expected)
    assert result.extras.evaluations == 4 * (1 + len(_window_starts(5, window, stride)))


def test_a_window_overhanging_the_edge_is_clipped():
    assert _window_starts(6, 3, 2) == [0, 2, 4] and _window_starts(5, 3, 2) == [0, 2]
    weights = torch.tensor([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0])
    result = Occlusion(lambda x: x @ weights).attribute(torch.ones(1, 6), sliding_window_shapes=(3,), strides=2)
    # windows 0-2, 2-4 and 4-5 (clipped) drop 111, 11100 and 110000
    torch.testing.assert_close(result.attributions, torch.tensor([[111.0, 111.0, 5605.5, 11100.0, 60550.0, 110000.0]]))


def test_occlusion_of_2d_blocks_with_tuple_inputs():
    weights = (torch.randn(4, 6), torch.randn(3))
    forward = lambda image, side: (image * weights[0]).sum((1, 2)) + side @ weights[1]  # noqa: E731
    image, side = torch.randn(2, 4, 6), torch.randn(2, 3)
    result = Occlusion(forward).attribute((image, side), sliding_window_shapes=((2, 3), (1,)), strides=((2, 3), 1))
    contribution = image * weights[0]
    blocks = contribution.reshape(2, 2, 2, 2, 3).sum((2, 4), keepdim=True).expand(2, 2, 2, 2, 3).reshape(2, 4, 6)
    torch.testing.assert_close(result.attributions[0], blocks)
    torch.testing.assert_close(result.attributions[1], side * weights[1])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"sliding_window_shapes": (6,)}, "larger"),
        ({"sliding_window_shapes": (0,)}, "positive ints"),
        ({"sliding_window_shapes": (1, 1)}, "one per dimension"),
        ({"strides": (1, 2)}, "strides"),
        ({"sliding_window_shapes": "wide"}, "sliding_window_shapes"),
    ],
)
def test_occlusion_rejects_bad_windows(options, message):
    with pytest.raises(InvalidInputError, match=message):
        Occlusion(Linear().eval()).attribute(X, target=0, **options)
