"""Guided backpropagation, deconvolution, GradCAM and guided GradCAM: oracles, Captum, reuse, refusals."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import _get_current_function_mode_stack

import limelight
from limelight.engine.gradient import Saliency
from limelight.engine.gradient.grad_cam import LayerGradCam
from limelight.engine.propagation import (
    LRP,
    Deconvolution,
    DeepLift,
    DeepLiftShap,
    GuidedBackprop,
    GuidedGradCam,
    LayerDeepLift,
    LayerLRP,
    modified_backward,
)
from limelight.engine.propagation.rectifiers import as_rectifier, guided_rule
from limelight.errors import InvalidInputError, LayerError

from .cnns import Functional, ReusedReLU, TinyCNN

captum = pytest.importorskip("captum.attr")


def close(ours: Tensor, theirs: Tensor) -> None:
    scale = float(theirs.detach().abs().max())
    assert scale > 0
    torch.testing.assert_close(ours, theirs.to(ours.dtype), rtol=1e-5, atol=1e-5 * scale)


@pytest.fixture
def images() -> Tensor:
    return torch.randn(3, 3, 8, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


@pytest.fixture
def cnn() -> TinyCNN:
    return TinyCNN().double().eval()


def quiet(run):  # Captum warns about its hooks and about gradients it switches on
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run()


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 4, bias=False)
        self.first.weight.data = torch.tensor([[1.0, -1.0, 0.0], [0.0, 2.0, 1.0], [-1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
        self.relu = nn.ReLU()
        self.second = nn.Linear(4, 1, bias=False)
        self.second.weight.data = torch.tensor([[2.0, -3.0, 1.0, -1.0]])

    def forward(self, x: Tensor) -> Tensor:
        return self.second(self.relu(self.first(x)))


def test_guided_backprop_and_deconvolution_match_the_hand_computation() -> None:
    model, x = TwoLayer(), torch.tensor([[1.0, 0.5, 1.0]])  # pre-activations: 0.5, 2, 0, 2.5
    w1, w2 = model.first.weight.data, model.second.weight.data[0]
    passes = (x @ w1.T)[0] > 0
    guided = GuidedBackprop(model).attribute(x).attributions
    deconv = Deconvolution(model).attribute(x).attributions
    torch.testing.assert_close(guided[0], w1.T @ (w2.clamp(min=0) * passes))
    torch.testing.assert_close(deconv[0], w1.T @ w2.clamp(min=0))
    assert not torch.allclose(guided, Saliency(model).attribute(x, abs=False).attributions)


@pytest.mark.parametrize(("ours", "theirs"), [(GuidedBackprop, "GuidedBackprop"), (Deconvolution, "Deconvolution")])
def test_modified_gradients_match_captum(ours, theirs, cnn: TinyCNN, images: Tensor) -> None:
    expected = quiet(lambda: getattr(captum, theirs)(cnn).attribute(images, target=1))
    close(ours(cnn).attribute(images, target=1).attributions, expected)


@pytest.mark.parametrize("twin", [ReusedReLU, Functional])
def test_a_reused_module_and_functional_rectifiers_are_handled_at_every_use(twin, cnn: TinyCNN, images: Tensor) -> None:
    """One ReLU module run twice, or F.relu(inplace) and clamp(min=0), give the separate-module net's answer."""
    model = twin().double().eval()
    expected = quiet(lambda: captum.GuidedBackprop(cnn).attribute(images, target=2))
    close(GuidedBackprop(model).attribute(images, target=2).attributions, expected)
    close(
        Deconvolution(model).attribute(images, target=2).attributions, quiet(lambda: captum.Deconvolution(cnn).attribute(images, target=2))
    )


def test_results_do_not_depend_on_the_batch_or_chunk_size(cnn: TinyCNN, images: Tensor) -> None:
    method = GuidedBackprop(cnn)
    whole = method.attribute(images, target=1).attributions
    close(method.attribute(images, target=1, internal_batch_size=1).attributions, whole)
    close(method.attribute(images[1:2], target=1).attributions, whole[1:2])


def test_the_interception_ends_with_its_block_also_on_error(cnn: TinyCNN) -> None:
    with pytest.raises(RuntimeError), modified_backward(guided_rule, cnn):
        cnn(torch.randn(1, 4, 8, 8, dtype=torch.float64))  # wrong channel count
    assert not _get_current_function_mode_stack()
    x = torch.randn(2, 3, requires_grad=True)
    F.relu(x).sum().backward()
    assert torch.equal(x.grad, (x > 0).to(x.dtype))  # ordinary gradients again


def test_in_place_rectifiers_keep_their_forward() -> None:
    x = torch.tensor([-1.0, 2.0, 7.0], requires_grad=True)
    with modified_backward(guided_rule, nn.Identity()):
        y = x * 1.0
        F.relu6(y, inplace=True)
        out = y * torch.tensor([1.0, -1.0, 1.0])
    assert torch.equal(y.detach(), torch.tensor([0.0, 2.0, 6.0]))
    out.sum().backward()
    assert torch.equal(x.grad, torch.tensor([0.0, 0.0, 0.0]))  # the negative gradient at 2.0 is guided away; 7 is clipped


def test_only_rectifiers_are_intercepted() -> None:
    x = torch.randn(3)
    assert as_rectifier(torch.clamp, (x,), {"min": 0.0, "max": 6.0}) is not None
    assert as_rectifier(F.hardtanh, (x,), {}) is None  # hardtanh(-1, 1) is no rectifier
    assert as_rectifier(torch.clamp, (x, -1.0), {}) is None
    assert as_rectifier(F.leaky_relu, (x,), {}) is None


def test_torchscript_is_refused(cnn: TinyCNN, images: Tensor) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script is deprecated, still in use
        scripted = torch.jit.script(TinyCNN().double())
    with pytest.raises(InvalidInputError, match="TorchScript"):
        GuidedBackprop(scripted).attribute(images, target=0)


class HandCam(nn.Module):
    """The layer's activations are the input; the logit is ``sum_k v_k mean(A_k)``."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Identity()
        self.v = torch.tensor([[1.0, -2.0]], dtype=torch.float64)

    def forward(self, x: Tensor) -> Tensor:
        return self.layer(x).mean((2, 3)) @ self.v.T


def test_grad_cam_matches_the_hand_computation() -> None:
    x = torch.randn(2, 2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    model = HandCam()
    expected = (x[:, :1] * 1.0 - 2.0 * x[:, 1:]) / 12
    raw = LayerGradCam(model, model.layer).attribute(x, relu_attributions=False, interpolate_mode=None).attributions
    torch.testing.assert_close(raw, expected)
    torch.testing.assert_close(LayerGradCam(model, model.layer).attribute(x, interpolate_mode=None).attributions, expected.clamp(min=0))


def test_grad_cam_and_guided_grad_cam_match_captum(cnn: TinyCNN, images: Tensor) -> None:
    cam = LayerGradCam(cnn, cnn.conv2).attribute(images, target=3).attributions
    theirs = quiet(lambda: captum.LayerGradCam(cnn, cnn.conv2).attribute(images, target=3, relu_attributions=True))
    theirs = captum.LayerAttribution.interpolate(theirs, (8, 8), "bilinear")
    assert cam.shape == (3, 1, 8, 8)
    close(cam, theirs)
    guided = GuidedGradCam(cnn, cnn.conv1).attribute(images, target=3).attributions
    close(guided, quiet(lambda: captum.GuidedGradCam(cnn, cnn.conv1).attribute(images, target=3, interpolate_mode="bilinear")))


def test_grad_cam_refuses_a_layer_that_runs_twice(images: Tensor) -> None:
    model = ReusedReLU().double().eval()
    with pytest.raises(LayerError, match="more than once"):
        LayerGradCam(model, model.relu1).attribute(images, target=0)


def test_the_new_methods_are_public_and_registered() -> None:
    import limelight
    from limelight.engine.names import METHODS

    for method in (LayerGradCam, GuidedBackprop, Deconvolution, GuidedGradCam, DeepLift, DeepLiftShap, LayerDeepLift, LRP, LayerLRP):
        assert getattr(limelight, method.__name__) is method and method.name in METHODS
    assert callable(limelight.vision.explain_image) and callable(limelight.vision.ImageExplainer) and callable(limelight.demo_image_model)


@pytest.mark.parametrize("method", ["deeplift", "lrp"])
def test_the_vision_front_end_runs_deeplift_and_lrp(method: str) -> None:
    """explain_image(method="deeplift" | "lrp") on a CNN: DeepLift sums to the change from the baseline."""
    model = TinyCNN().eval()
    image = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
    explanation = limelight.vision.explain_image(model, image, target=1, preprocess=None, labels=["a", "b", "c", "d"], method=method)
    assert explanation.method == method
    delta = explanation.evidence.delta
    assert delta is not None
    if method == "deeplift":
        assert abs(delta) < 1e-4
