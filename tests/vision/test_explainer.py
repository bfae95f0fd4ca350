"""The vision front end: analytic oracles, targets, baselines, features, invariances, inputs and the result type."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from limelight.errors import InvalidInputError, TargetError
from limelight.vision import Baseline, ImageExplainer, ImageExplanation, ImageExplanations, Patches, Preprocess, Slic, explain_image
from limelight.vision.baselines import gaussian_blur
from limelight.vision.geometry import pull_back
from limelight.vision.preprocess import identity

from .cnns import TinyCNN

LABELS = ["tabby cat", "tiger cat", "sports car", "espresso"]


class LinearConv(nn.Module):
    """A convolution as wide as the image: logit ``k`` is ``sum(w_k * x) + bias_k``."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, (6, 5))

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x).flatten(1)


@pytest.fixture
def images() -> Tensor:
    return torch.rand(3, 3, 6, 5, generator=torch.Generator().manual_seed(0))


@pytest.fixture
def linear() -> LinearConv:
    return LinearConv().eval()


def weights(model: LinearConv, k: int) -> Tensor:
    return model.conv.weight.detach()[k].double()


def test_integrated_gradients_on_a_linear_conv_model_is_input_minus_baseline_times_weight(linear: LinearConv, images: Tensor) -> None:
    explained = explain_image(linear, images, target="sports car", preprocess=None, labels=LABELS, baseline=Baseline("blur", sigma=1.0))
    assert isinstance(explained, ImageExplanations) and len(explained) == 3
    for image, explanation in zip(images, explained):
        expected = (image.double() - gaussian_blur(image, 1.0).double()) * weights(linear, 2)
        torch.testing.assert_close(explanation.attributions.double(), expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(explanation.scores.double(), expected.sum(0), rtol=1e-5, atol=1e-6)
        assert explanation.target_label == "sports car" and explanation.baseline == "blur (sigma=1)"
        assert abs(explanation.delta) < 1e-4 and explanation.n_steps == 50 and explanation.converged


def test_contrast_and_quantity_define_the_explained_scalar(linear: LinearConv, images: Tensor) -> None:
    image = images[0]
    versus = explain_image(linear, image, target=1, contrast="espresso", preprocess=None, labels=LABELS)
    torch.testing.assert_close(
        versus.attributions.double(), image.double() * (weights(linear, 1) - weights(linear, 3)), rtol=1e-5, atol=1e-6
    )
    assert versus.contrast_label == "espresso"
    probability = explain_image(linear, image, preprocess=None, labels=LABELS, quantity="probability", n_steps=100)
    change = probability.evidence.input_value - probability.evidence.baseline_value
    assert probability.quantity == "probability" and abs(float(probability.attributions.sum()) - change) < 1e-4
    assert probability.target_label == probability.predicted_label


def test_unknown_labels_list_the_closest_names_first(linear: LinearConv, images: Tensor) -> None:
    with pytest.raises(TargetError, match=r"unknown target label 'tiger'; valid labels \(closest first.*1: 'tiger cat'"):
        explain_image(linear, images[0], target="tiger", preprocess=None, labels=LABELS)
    with pytest.raises(TargetError, match="out of range"):
        explain_image(linear, images[0], target=7, preprocess=None, labels=LABELS)


def test_results_do_not_depend_on_batching(images: Tensor) -> None:
    model = TinyCNN(classes=4).eval()
    together = ImageExplainer(model, None, LABELS, method="integrated_gradients", tolerance=None, n_steps=8).explain(images)
    apart = ImageExplainer(
        model, None, LABELS, method="integrated_gradients", tolerance=None, n_steps=8, batch_size=1, internal_batch_size=3
    ).explain(images)
    for a, b in zip(together, apart):
        torch.testing.assert_close(a.attributions, b.attributions, rtol=1e-5, atol=1e-7)
        assert a.target_label == b.target_label


def test_the_default_preprocessing_maps_scores_back_keeping_their_total() -> None:
    image = torch.rand(3, 80, 120, generator=torch.Generator().manual_seed(1))
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval()
    explanation = explain_image(model, image, preprocess=Preprocess(resize=48, crop=40), method="input_x_gradient")
    assert explanation.input.shape == (3, 40, 40) and explanation.image_scores.shape == (80, 120)
    assert explanation.image_mapping == "jacobian"
    positive = explanation.scores.abs()
    assert float(pull_back(Preprocess(resize=48, crop=40), image, positive)[0].sum()) == pytest.approx(float(positive.sum()), rel=0.02)
    assert torch.equal(pull_back(identity, image, image[0])[0], image[0])
    assert float(explanation.input_image.min()) >= 0 and float(explanation.input_image.max()) <= 1
    outside = explanation.image_scores[:, :16].abs().max()  # the crop left these columns out
    assert float(outside) < 1e-6 * float(explanation.image_scores.abs().max())


def test_occlusion_matches_captum_and_refuses_gaps(images: Tensor) -> None:
    captum = pytest.importorskip("captum.attr")
    model = TinyCNN(classes=4).eval()
    explained = explain_image(model, images, target=1, preprocess=None, method="occlusion", window=(3, 2), stride=(2, 1))
    expected = captum.Occlusion(model).attribute(images, sliding_window_shapes=(3, 3, 2), strides=(3, 2, 1), baselines=0.0, target=1)
    ours = torch.stack([e.attributions for e in explained]) * 3  # a pixel's drop is shared among its 3 channels
    torch.testing.assert_close(ours.double(), expected.double(), rtol=1e-5, atol=1e-5 * float(expected.abs().max()))
    with pytest.raises(InvalidInputError, match="stride"):
        explain_image(model, images, preprocess=None, method="occlusion", window=2, stride=3)


def test_segments_score_like_their_pixels(linear: LinearConv, images: Tensor) -> None:
    ablated = explain_image(linear, images[0], target=0, preprocess=None, method="feature_ablation", features=Patches(2))
    assert ablated.segments is not None and ablated.segment_scores is not None and len(ablated.segment_scores) == 9
    contributions = (images[0].double() * weights(linear, 0)).sum(0)  # a linear model: ablation is exact
    for segment, score in enumerate(ablated.segment_scores):
        assert score == pytest.approx(float(contributions[ablated.segments == segment].sum()), rel=1e-4, abs=1e-6)
        pixels = ablated.scores[ablated.segments == segment]
        assert float(pixels.sum()) == pytest.approx(score, rel=1e-4, abs=1e-6) and torch.allclose(pixels, pixels[0])  # shared equally
    mask = torch.tensor([[0] * 5] * 3 + [[1] * 5] * 3)
    custom = explain_image(linear, images[0], preprocess=None, method="input_x_gradient", features=mask)
    assert custom.segment_scores == pytest.approx([float(custom.scores[:3].sum()), float(custom.scores[3:].sum())])
    superpixels = explain_image(linear, images[0], preprocess=None, method="kernel_shap", features=Slic(n_segments=4), n_samples=30)
    assert superpixels.features.startswith("SLIC") and len(superpixels.segment_scores) == int(superpixels.segments.max()) + 1
    assert abs(superpixels.delta) < 1e-4  # KernelSHAP's efficiency constraint


def test_grad_cam_uses_the_last_convolution_by_default(images: Tensor) -> None:
    model = TinyCNN(classes=4).eval()
    cam = explain_image(model, images[0], preprocess=None, method="layer_grad_cam")
    assert cam.attributions.shape == (1, 6, 5) and float(cam.scores.min()) >= 0
    named = explain_image(model, images[0], preprocess=None, method="layer_grad_cam", layer="conv2")
    torch.testing.assert_close(cam.scores, named.scores)


def test_every_input_form_gives_the_same_image(tmp_path, linear: LinearConv) -> None:
    from PIL import Image

    pixels = (np.random.default_rng(0).random((6, 5, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(tmp_path / "photo.png")
    forms = [
        pixels,
        Image.fromarray(pixels),
        tmp_path / "photo.png",
        str(tmp_path / "photo.png"),
        torch.from_numpy(pixels).permute(2, 0, 1),
    ]
    explained = explain_image(linear, forms, method="saliency", preprocess=None)
    for explanation in explained[1:]:
        torch.testing.assert_close(explanation.input, explained[0].input)
    with pytest.raises(InvalidInputError, match=r"values in \[0, 1\]"):
        explain_image(linear, torch.full((3, 6, 5), 2.0), preprocess=None)
    with pytest.raises(InvalidInputError, match="channels-last"):
        explain_image(linear, torch.rand(6, 5, 3), preprocess=None)


def test_json_round_trip_numpy_and_dataframe(linear: LinearConv, images: Tensor) -> None:
    explained = explain_image(linear, images[:2], preprocess=None, labels=LABELS, method="feature_ablation", features=Patches(3))
    again = ImageExplanations.from_json(explained.to_json())
    for a, b in zip(explained, again):
        assert a.to_dict() == b.to_dict()
        for name in ("image", "attributions", "scores", "image_scores", "segments"):
            assert torch.equal(getattr(a, name), getattr(b, name))
    payload = json.loads(explained[0].to_json())
    assert set(payload["attributions"]) == {"dtype", "shape", "data"}
    arrays = explained[0].to_numpy()
    assert arrays["image"].shape == (6, 5, 3) and arrays["scores"].shape == (6, 5)
    assert list(explained.to_dataframe()["method"]) == ["feature_ablation"] * 2
    assert len(explained.to_dataframe("segment")) == sum(len(e.segment_scores) for e in explained)
    with pytest.raises(InvalidInputError, match="unknown image explanation fields"):
        ImageExplanation.from_dict({**explained[0].to_dict(), "extra": 1})


def test_bad_settings_are_refused(linear: LinearConv, images: Tensor) -> None:
    with pytest.raises(InvalidInputError, match="unknown image method"):
        ImageExplainer(linear, method="magic")
    with pytest.raises(InvalidInputError, match="pooling"):
        ImageExplainer(linear, pooling="median")
    with pytest.raises(InvalidInputError, match="baseline"):
        ImageExplainer(linear, baseline="grey")
    with pytest.raises(InvalidInputError, match="features"):
        ImageExplainer(linear, method="lime", features="grid")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ImageExplainer(linear, None, method="smoothgrad").method_name == "noise_tunnel"


def test_a_grey_image_is_repeated_into_rgb_for_a_three_channel_model(linear: LinearConv, images: Tensor) -> None:
    grey = images[0, :1]
    explained = explain_image(linear, grey, preprocess=None, labels=LABELS, method="saliency")
    rgb = explain_image(linear, grey.expand(3, -1, -1), preprocess=None, labels=LABELS, method="saliency")
    assert explained.image.shape == (3, 6, 5)
    torch.testing.assert_close(explained.attributions, rgb.attributions)
    with pytest.raises(InvalidInputError, match="first convolution takes 1 channel"):
        explain_image(TinyCNN(channels=1), torch.rand(3, 8, 8), preprocess=None, labels=LABELS)


class Strided(nn.Module):
    """A stride-2 convolution (a 4 x 4 map of an 8 x 8 image), ReLU, a convolution, mean pool, linear."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.conv = nn.Conv2d(4, 5, 3, padding=1)
        self.fc = nn.Linear(5, 4)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(torch.relu(self.conv(torch.relu(self.down(x)))).mean((2, 3)))


@pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")  # 16 steps: only the sharing is tested
def test_layer_integrated_gradients_share_each_cell_among_its_pixels_and_match_captum() -> None:
    captum = pytest.importorskip("captum.attr")
    model = Strided().eval()
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    explained = explain_image(model, images, preprocess=None, labels=LABELS, method="layer_integrated_gradients", layer="down", n_steps=16)
    targets = [LABELS.index(e.target_label) for e in explained]
    reference = captum.LayerIntegratedGradients(model, model.down).attribute(images, torch.zeros_like(images), target=targets, n_steps=16)
    for explanation, cells in zip(explained, reference):
        assert explanation.attributions.shape == (1, 8, 8) and explanation.method == "layer_integrated_gradients"
        blocks = explanation.scores.reshape(4, 2, 4, 2).sum((1, 3))
        torch.testing.assert_close(blocks, cells.sum(0), rtol=1e-5, atol=1e-6)
        assert explanation.delta is not None and abs(explanation.delta) < 1e-2
