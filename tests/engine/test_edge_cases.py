"""Edge cases of what users pass: integer baselines, occlusion strides, one and no element per example."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from limelight import (
    FeatureAblation,
    IntegratedGradients,
    KernelShap,
    LayerIntegratedGradients,
    Lime,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
)
from limelight.errors import InvalidInputError

PERTURBATION = [FeatureAblation, Occlusion, ShapleyValues, ShapleyValueSampling, KernelShap, Lime]
SEEDED = {ShapleyValueSampling, KernelShap, Lime}


def numeric(*inputs: Tensor) -> Tensor:
    """A nonlinear forward that reads every input, of any dtype and shape, as numbers: ``(N, 2)``."""
    z = torch.cat([x.reshape(x.shape[0], -1).double() if x.dim() > 1 else x.double()[:, None] for x in inputs], 1)
    weights = torch.sin(torch.arange(z.shape[1], dtype=torch.float64) + 1)
    linear = z @ weights
    return torch.stack([torch.tanh(linear) + 0.1 * linear**2, z.sum(1)], 1)


def attribute(method: type, inputs: object, baselines: object = None, **options: object):
    extra = {"seed": 0} if method in SEEDED else {}
    return method(numeric).attribute(inputs, baselines, target=0, **options, **extra)


# 1. baselines that the input's integer dtype cannot hold


@pytest.mark.parametrize("method", PERTURBATION)
@pytest.mark.parametrize(
    "x, baseline",
    [
        (torch.tensor([[1, 2, 3]]), 0.2),
        (torch.tensor([[1, 2, 3]]), torch.tensor([0.5, 0.0, 0.0])),
        (torch.tensor([[1, 2, 3]], dtype=torch.uint8), -1),
        (torch.tensor([[True, False, True]]), 2),
        (torch.tensor([[1, 2, 3]]), float("nan")),
    ],
)
def test_a_baseline_the_integer_dtype_cannot_hold_is_refused(method, x, baseline):
    with pytest.raises(InvalidInputError, match="cannot hold"):
        attribute(method, x, baseline)


@pytest.mark.parametrize("method", [ShapleyValues, ShapleyValueSampling, KernelShap])
def test_integer_inputs_passed_as_floats_use_a_fractional_baseline_exactly(method):
    result = attribute(method, torch.tensor([[1, 2, 3]]).float(), 0.25)
    torch.testing.assert_close(result.baseline_value, numeric(torch.full((1, 3), 0.25))[:, 0])


@pytest.mark.parametrize("method", PERTURBATION)
def test_integral_baselines_for_integer_inputs_keep_their_results(method):
    x = torch.tensor([[1, 2, 3], [0, 4, 1]])
    as_int = attribute(method, x, 1).attributions
    for same in (1.0, torch.tensor(1.0), torch.tensor([1, 1, 1]), torch.ones(1, 3, dtype=torch.float64)):
        torch.testing.assert_close(attribute(method, x, same).attributions, as_int)


def test_a_fractional_baseline_for_token_ids_is_refused_at_the_layer_too():
    embedding = nn.Embedding(10, 4)
    model = nn.Sequential(embedding, nn.Flatten(), nn.Linear(12, 2))
    with pytest.raises(InvalidInputError, match="pad or mask id"):
        LayerIntegratedGradients(model, embedding).attribute(torch.tensor([[1, 2, 3]]), 0.5, target=0)


def test_a_0d_tensor_baseline_is_a_scalar():
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    for method in (FeatureAblation, IntegratedGradients):
        scalar = method(numeric).attribute(x, 0.5, target=0).attributions
        torch.testing.assert_close(method(numeric).attribute(x, torch.tensor(0.5), target=0).attributions, scalar)


# 2. occlusion strides longer than the window


@pytest.mark.parametrize("window, strides", [((2,), 3), ((1,), 2), ((2, 1), (1, 2))])
def test_occlusion_refuses_strides_longer_than_the_window(window, strides):
    x = torch.ones(1, 5) if len(window) == 1 else torch.ones(1, 4, 4)
    with pytest.raises(InvalidInputError, match="never be occluded"):
        Occlusion(numeric).attribute(x, sliding_window_shapes=window, strides=strides, target=1)


def test_occlusion_allows_a_long_stride_along_a_dimension_the_window_spans():
    result = Occlusion(numeric).attribute(torch.ones(1, 2, 4), sliding_window_shapes=(2, 1), strides=(5, 1), target=1)
    assert (result.attributions == 2).all()  # target 1 is the sum: each element covered by one window of two ones


# 3. one value per example


@pytest.mark.parametrize("method", PERTURBATION)
def test_one_value_per_example_matches_each_example_alone(method):
    x = torch.tensor([0.5, -1.0, 2.0])
    result = attribute(method, x, 0.25)
    assert result.attributions.shape == (3,)
    for i in range(3) if method not in SEEDED else range(1):
        alone = attribute(method, x[i : i + 1], 0.25)
        torch.testing.assert_close(result.attributions[i : i + 1], alone.attributions)
    torch.testing.assert_close(result.attributions, attribute(method, x[:, None], 0.25).attributions[:, 0])


# 4. no element per example


@pytest.mark.parametrize("method", PERTURBATION)
@pytest.mark.parametrize("inputs", [torch.ones(2, 0), torch.ones(2, 3, 0), (torch.ones(2, 0), torch.ones(2, 0, 4))])
def test_inputs_without_elements_are_refused_by_every_perturbation_method(method, inputs):
    with pytest.raises(InvalidInputError, match="no feature"):
        attribute(method, inputs)


@pytest.mark.parametrize("method", PERTURBATION)
def test_an_input_without_elements_beside_others_gets_empty_attributions(method):
    x = torch.tensor([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    result = attribute(method, (x, torch.ones(2, 0, 2)), (0.5, 0.0))
    assert result.attributions[1].shape == (2, 0, 2)
    torch.testing.assert_close(result.attributions[0], attribute(method, (x,), (0.5,)).attributions[0])


def test_a_mask_of_no_elements_is_refused_like_a_mask_of_no_features():
    with pytest.raises(InvalidInputError, match="no features"):
        FeatureAblation(numeric).attribute(torch.ones(2, 0), target=0, feature_mask=torch.zeros(2, 0, dtype=torch.long))


@pytest.mark.parametrize("method", [*PERTURBATION, IntegratedGradients, Saliency])
def test_inputs_without_examples_are_refused(method):
    with pytest.raises(InvalidInputError, match="no examples"):
        method(numeric).attribute(torch.ones(0, 3), target=0)
