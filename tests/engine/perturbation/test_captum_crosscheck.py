"""The deterministic perturbation methods agree with Captum's on a nonlinear model (Captum is test-only)."""

import pytest
import torch

from limelight import FeatureAblation, Occlusion, ShapleyValues

from ..models import MLP

captum = pytest.importorskip("captum.attr")

torch.manual_seed(0)
X = torch.randn(3, 6)
B = torch.randn(3, 6) * 0.2
MASK = torch.tensor([[0, 0, 1, 2, 3, 3]])


def test_feature_ablation_matches_captum():
    model = MLP().eval()
    ours = FeatureAblation(model).attribute(X, B, target=2, feature_mask=MASK).attributions
    theirs = captum.FeatureAblation(model).attribute(X, baselines=B, target=2, feature_mask=MASK)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_exact_shapley_values_match_captum():
    model = MLP().eval()
    ours = ShapleyValues(model).attribute(X, B, target=0, feature_mask=MASK).attributions
    theirs = captum.ShapleyValues(model).attribute(X, baselines=B, target=0, feature_mask=MASK)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("window, strides", [((2,), (1,)), ((3,), (2,))])
def test_occlusion_matches_captum(window, strides):
    model = MLP().eval()
    ours = Occlusion(model).attribute(X, B, target=1, sliding_window_shapes=window, strides=strides).attributions
    theirs = captum.Occlusion(model).attribute(X, sliding_window_shapes=window, strides=strides, baselines=B, target=1)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
