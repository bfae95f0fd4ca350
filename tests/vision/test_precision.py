"""Models in float64 and in half precision: images and baselines are cast to the model's dtype, results stay finite."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from limelight import compare_images
from limelight.vision import Patches, explain_image

from .cnns import TinyCNN

IMAGES = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
METHODS = {
    "integrated_gradients": {"n_steps": 16},
    "saliency": {},
    "layer_grad_cam": {},
    "guided_backprop": {},
    "deeplift": {},
    "occlusion": {"window": 4, "stride": 2},
    "feature_ablation": {"features": Patches(size=4)},
}


def _scores(dtype: torch.dtype, method: str) -> torch.Tensor:
    explained = explain_image(TinyCNN().to(dtype), IMAGES, method=method, preprocess=None, baseline="mean", **METHODS[method])
    return torch.stack([e.attributions for e in explained]).double()


@pytest.mark.parametrize("method", METHODS)
def test_a_float64_model_explains_like_its_float32_copy(method: str) -> None:
    torch.testing.assert_close(_scores(torch.float64, method), _scores(torch.float32, method), rtol=1e-4, atol=1e-6)


HALVES = [(torch.float16, 0.01), (torch.bfloat16, 0.1)]  # 11 and 8 significant bits


@pytest.mark.parametrize(("dtype", "tolerance"), HALVES)
@pytest.mark.parametrize("method", ["integrated_gradients", "saliency"])
def test_a_half_precision_model_gives_finite_gradients_close_to_float32(dtype: torch.dtype, tolerance: float, method: str) -> None:
    half, exact = _scores(dtype, method), _scores(torch.float32, method)
    assert torch.isfinite(half).all()
    torch.testing.assert_close(half, exact, rtol=0, atol=tolerance * float(exact.abs().max()))


@pytest.mark.parametrize(("dtype", "tolerance"), HALVES)
def test_a_half_precision_model_gives_finite_ablations_within_its_output_rounding(dtype: torch.dtype, tolerance: float) -> None:
    half, exact = _scores(dtype, "feature_ablation"), _scores(torch.float32, "feature_ablation")
    assert torch.isfinite(half).all()
    per_element = 16 * 3  # a 4 x 4 patch's score is shared among its pixels and channels
    logits = float(TinyCNN()(IMAGES).abs().max())  # a difference of two outputs is rounded at the outputs' scale
    torch.testing.assert_close(half, exact, rtol=0, atol=tolerance * logits / per_element)


def test_comparisons_erase_and_re_run_a_float64_model() -> None:
    comparison = compare_images(TinyCNN().double(), IMAGES, ["saliency"], preprocess=None, n_bootstrap=10)
    assert np.isfinite(comparison.results["saliency"].values["comprehensiveness"]).all() and comparison.refused == {}
