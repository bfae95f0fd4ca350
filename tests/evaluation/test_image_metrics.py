"""Image evaluation: the image eraser, curves and AOPC on segments and pixels, the checks, compare_images.

The analytic model's class 0 is the sum of the pixels of the top-left 2x2 region of a 4x4 image
(class 1 is constant 0), so the region must rank first and every curve has a value by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from limelight.errors import InvalidInputError
from limelight.evaluation import (
    IMAGE_METRICS,
    ImageEraser,
    Perturbation,
    compare_images,
    comprehensiveness,
    deletion_curves,
    image_cascading_randomisation,
    image_randomisation_blocks,
    infidelity,
    insertion_curves,
    sufficiency,
)
from limelight.evaluation.image_explainers import ImageMethodExplainer
from limelight.vision import ImageExplainer, Patches
from limelight.vision.methods import VISION_METHODS
from tests.vision.cnns import TinyCNN


class RegionSum(nn.Module):
    """Logits ``(sum of the top-left 2x2 pixels, 0)``: only that region matters."""

    def forward(self, x: Tensor) -> Tensor:
        total = x[:, :, :2, :2].sum((1, 2, 3))
        return torch.stack([total, torch.zeros_like(total)], 1)


IMAGES = torch.full((2, 1, 4, 4), 0.5)
QUADRANTS = Patches(size=2)


def _explained(method: str, **settings):
    return list(ImageExplainer(RegionSum(), None, ["region", "none"], method=method, **settings).explain(IMAGES))


@pytest.fixture
def eraser():
    return ImageEraser(RegionSum(), None, ["region", "none"])


def test_segments_rank_the_region_first_and_the_curves_are_the_hand_computed_ones(eraser):
    explanations = _explained("feature_ablation", features=QUADRANTS)
    subjects = eraser.prepare(explanations)
    assert subjects[0].n_features == 4
    assert int(np.argmax(subjects[0].scores)) == 0 and subjects[0].scores.tolist() == [2.0, 0.0, 0.0, 0.0]
    deletion = deletion_curves(eraser, subjects)[0]
    assert deletion.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert deletion.values.tolist() == [2.0, 0.0, 0.0, 0.0, 0.0]
    assert deletion.area == pytest.approx(0.25)
    insertion = insertion_curves(eraser, subjects)[0]
    assert insertion.values.tolist() == [0.0, 2.0, 2.0, 2.0, 2.0]
    assert insertion.area == pytest.approx(1.75)
    least = deletion_curves(eraser, subjects, least_first=True)[0]
    assert least.values.tolist() == [2.0, 2.0, 2.0, 2.0, 0.0]  # the region goes last
    assert least.area == pytest.approx(insertion.area)  # LeRF deletion is MoRF insertion read backwards
    assert insertion_curves(eraser, subjects, least_first=True)[0].values.tolist() == [0.0, 0.0, 0.0, 0.0, 2.0]
    np.testing.assert_allclose(comprehensiveness(eraser, subjects), 2.0)
    np.testing.assert_allclose(sufficiency(eraser, subjects), 0.0)


def test_pixels_are_features_when_an_explanation_has_no_segments(eraser):
    subjects = eraser.prepare(_explained("input_x_gradient"))
    assert subjects[0].n_features == 16
    deletion = deletion_curves(eraser, subjects)[0]
    assert deletion.values[:6].tolist() == [2.0, 1.5, 1.0, 0.5, 0.0, 0.0]
    assert deletion.area == pytest.approx(0.25)


def test_metric_features_split_a_pixel_explanation_into_segments():
    eraser = ImageEraser(RegionSum(), None, ["region", "none"], features=QUADRANTS)
    subjects = eraser.prepare(_explained("input_x_gradient"))
    assert subjects[0].scores.tolist() == [2.0, 0.0, 0.0, 0.0]


def test_erasing_uses_the_baseline_and_variants_are_cached():
    eraser = ImageEraser(RegionSum(), None, ["region", "none"], baseline=torch.full((1, 4, 4), 0.25))
    subjects = eraser.prepare(_explained("feature_ablation", features=QUADRANTS))
    everything = [Perturbation(s, (0, 1, 2, 3)) for s in subjects]
    assert eraser.values(everything).tolist() == [1.0, 1.0]
    rows = eraser.rows_evaluated
    eraser.values(everything + [Perturbation(s) for s in subjects])
    assert eraser.rows_evaluated == rows  # the same image twice and the full images were seen already


def test_bad_input_is_a_limelight_error(eraser):
    with pytest.raises(InvalidInputError, match="not an ImageExplanation"):
        eraser.prepare(["an image"])
    subject = eraser.prepare(_explained("saliency"))[0]
    with pytest.raises(InvalidInputError, match="embedding"):
        eraser.values([Perturbation(subject, shift=(0.1,) * 16)])
    with pytest.raises(InvalidInputError, match="WordEraser"):
        infidelity(eraser, [subject], "embedding")


def test_dropout_infidelity_is_zero_for_exact_additive_scores(eraser):
    subjects = eraser.prepare(_explained("feature_ablation", features=QUADRANTS))
    np.testing.assert_allclose(infidelity(eraser, subjects, n_samples=8), 0.0, atol=1e-12)


def test_randomisation_blocks_go_from_the_output_down_and_the_cascade_changes_gradients():
    model = TinyCNN(channels=1, classes=3)
    assert [b.name for b in image_randomisation_blocks(model)] == ["fc", "conv2", "conv1"]
    wrapped = nn.Sequential(model)
    assert [b.name for b in image_randomisation_blocks(wrapped)] == ["0.fc", "0.conv2", "0.conv1"]
    stacked = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Sequential(nn.Conv2d(2, 2, 3), nn.ReLU()), nn.Flatten(), nn.Linear(8, 3))
    assert [b.name for b in image_randomisation_blocks(stacked)] == ["4", "2.0", "0"]
    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    explainer = ImageMethodExplainer("saliency", None)
    explanations = explainer(model, images)
    curve = image_cascading_randomisation(model, explainer, explanations)
    assert curve.steps == ("fc", "conv2", "conv1") and curve.spearman.shape == (3, 2)
    assert np.all(curve.spearman[-1] < 0.9)
    assert torch.equal(explainer(model, images)[0].scores, explanations[0].scores)  # the model itself is untouched


def test_compare_images_scores_every_method_with_intervals_and_a_recommendation():
    comparison = compare_images(
        RegionSum(),
        IMAGES,
        {"ablation": "feature_ablation", "saliency": "saliency"},
        preprocess=None,
        labels=["region", "none"],
        method_settings={"ablation": {"features": QUADRANTS}},
        curve_steps=None,
        n_bootstrap=50,
    )
    assert comparison.metrics == tuple(name for name, m in IMAGE_METRICS.items() if not m.re_explains)
    ablation = comparison.results["ablation"]
    np.testing.assert_allclose(ablation.values["comprehensiveness"], 2.0)
    np.testing.assert_allclose(ablation.values["deletion_auc"], 0.25)
    assert ablation.summary["insertion_auc"].mean == pytest.approx(1.75)
    assert "ablation" in comparison.recommendation
    assert "infidelity (feature dropout)" in comparison.to_markdown()
    assert "<table" in comparison.to_html()
    assert comparison.agreement is not None and comparison.agreement.mean.shape == (2,)


def test_compare_images_runs_the_re_explaining_checks():
    model = TinyCNN(channels=1, classes=3)
    images = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    comparison = compare_images(
        model, images, ["saliency"], preprocess=None, metrics=["comprehensiveness", "max_sensitivity", "randomisation"], n_bootstrap=20
    )
    values = comparison.results["saliency"].values
    assert values["max_sensitivity"].shape == (2,) and np.all(values["max_sensitivity"] > 0)
    assert np.all(values["randomisation"] < 0.9)


def test_compare_images_rejects_unknown_metrics_and_methods():
    with pytest.raises(InvalidInputError, match="unknown metrics"):
        compare_images(RegionSum(), IMAGES, ["saliency"], preprocess=None, metrics=["loo_tau"])
    with pytest.raises(InvalidInputError, match="string"):
        compare_images(RegionSum(), IMAGES, "saliency", preprocess=None)


class Scripted(TinyCNN):
    """:class:`TinyCNN` whose rectifiers run in TorchScript, which propagation methods refuse (they cannot see them)."""

    def __init__(self) -> None:
        super().__init__()
        self.relu1 = torch.jit.script(nn.ReLU())  # type: ignore[assignment]
        self.relu2 = torch.jit.script(nn.ReLU())  # type: ignore[assignment]


SMALL = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
ON_PATCHES = {"features": Patches(size=4)}
EVERY_METHOD_SETTINGS = {
    **{name: ON_PATCHES for name, method in VISION_METHODS.items() if method.segments},
    "occlusion": {"window": 4, "stride": 2},
    "integrated_gradients": {"n_steps": 8},
    "layer_integrated_gradients": {"n_steps": 8},
}


@pytest.mark.slow  # every method of the front end, twice: about 10 s on an idle CPU
def test_compare_images_scores_every_vision_method_with_its_own_explanations():
    model = TinyCNN(classes=3)
    comparison = compare_images(
        model, SMALL, "all", preprocess=None, method_settings=EVERY_METHOD_SETTINGS, curve_steps=2, n_samples=2, n_bootstrap=20
    )
    assert comparison.methods == list(VISION_METHODS) and comparison.refused == {}
    for name, result in comparison.results.items():
        estimate = result.summary["comprehensiveness"]
        assert np.isfinite(result.values["comprehensiveness"]).all() and estimate.low <= estimate.mean <= estimate.high, name
        alone = ImageExplainer(model, None, method=name, **EVERY_METHOD_SETTINGS.get(name, {})).explain(SMALL)
        torch.testing.assert_close(result.explanations[1].scores, alone[1].scores, msg=name)  # compare explains as the front end does
    assert any(name in comparison.recommendation for name in VISION_METHODS)
    assert comparison.agreement is not None and comparison.agreement.mean.shape == (2,)


def test_compare_images_reports_methods_that_cannot_run_on_the_model_as_refused():
    comparison = compare_images(Scripted(), SMALL, ["saliency", "guided_backprop", "lrp"], preprocess=None, n_bootstrap=20)
    assert comparison.methods == ["saliency"]
    assert set(comparison.refused) == {"guided_backprop", "lrp"} and "TorchScript" in comparison.refused["lrp"]
    assert (
        "Refused" in comparison.recommendation
        and "guided_backprop (InvalidInputError: the forward runs TorchScript" in comparison.to_markdown()
    )
    with pytest.raises(InvalidInputError, match="no method could run on this model.*deconvolution"):
        compare_images(Scripted(), SMALL, ["deconvolution"], preprocess=None, n_bootstrap=20)
    with pytest.raises(InvalidInputError, match="unknown image method"):  # a misspelt name is the caller's mistake, not a refusal
        compare_images(Scripted(), SMALL, ["saliency", "guided_backprp"], preprocess=None)
