"""Every available device works end to end; half-precision models give finite results (sums in float64)."""

import pytest
import torch

from limelight import FeatureAblation, IntegratedGradients, LayerIntegratedGradients

from .models import MLP, TokenModel

DEVICES = [
    pytest.param("cpu"),
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device in this environment")),
    pytest.param("mps", marks=pytest.mark.skipif(not torch.backends.mps.is_available(), reason="no MPS device in this environment")),
]


@pytest.mark.parametrize("device", DEVICES)
def test_gradient_methods_keep_inputs_and_results_on_the_model_device(device):
    model = MLP().eval().to(device)
    x = torch.randn(3, 6, device=device)
    for n_steps in (8, "auto"):
        result = IntegratedGradients(model).attribute(x, target=1, n_steps=n_steps, internal_batch_size=7)
        assert result.attributions.device.type == device
        reference = IntegratedGradients(MLP().eval()).attribute(x.cpu(), target=1, n_steps=n_steps, internal_batch_size=7)
        torch.testing.assert_close(result.attributions.cpu(), reference.attributions, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_layer_ig_and_ablation_on_token_ids_on_the_device(device):
    model = TokenModel().eval().to(device)
    ids, base = torch.tensor([[1, 4, 7, 2], [1, 3, 2, 0]], device=device), torch.tensor([[1, 0, 0, 2]], device=device)
    mask = (ids != 0).long()
    layer = LayerIntegratedGradients(model, model.embedding).attribute(ids, base, target=0, forward_kwargs={"mask": mask})
    assert layer.attributions.device.type == device and torch.isfinite(layer.attributions).all()
    ablation = FeatureAblation(model).attribute(ids, base, target=0, forward_kwargs={"mask": mask})
    assert ablation.attributions.device.type == device and torch.isfinite(ablation.attributions).all()


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_models_give_finite_attributions_close_to_float32(dtype):
    model = MLP().eval()
    x = torch.randn(2, 6)
    reference = IntegratedGradients(model).attribute(x, target=0, n_steps=16)
    half = IntegratedGradients(MLP().eval().to(dtype)).attribute(x.to(dtype), target=0, n_steps=16)
    assert half.attributions.dtype == dtype and torch.isfinite(half.attributions).all()
    torch.testing.assert_close(half.attributions.float(), reference.attributions, rtol=0.1, atol=0.05)
