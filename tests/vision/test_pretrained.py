"""Hugging Face image classifiers from a local folder: labels from id2label, the processor as preprocessing, ViT patches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from limelight.errors import InvalidInputError, TargetError
from limelight.vision import ImageExplainer, explain_image

transformers = pytest.importorskip("transformers")

LABELS = {0: "cat", 1: "dog", 2: "bird"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A tiny random ViT (32 x 32 inputs, 8 x 8 patches) and its processor, saved as save_pretrained saves them."""
    torch.manual_seed(0)
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        id2label=LABELS,
        label2id={v: k for k, v in LABELS.items()},
    )
    path = tmp_path_factory.mktemp("vit")
    transformers.ViTForImageClassification(config).eval().save_pretrained(path)
    transformers.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(path)
    return path


@pytest.fixture
def photo() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, size=(40, 48, 3), dtype=np.uint8)


def test_labels_come_from_id2label_and_the_processor_preprocesses(folder, photo) -> None:
    explainer = ImageExplainer.from_pretrained(folder, method="saliency")
    explanation = explainer.explain(photo, target="dog")
    assert explanation.target_label == "dog" and explanation.predicted_label in LABELS.values()
    assert set(explanation.probabilities) == set(LABELS.values())
    processor = transformers.AutoImageProcessor.from_pretrained(folder)
    expected = processor(images=photo, return_tensors="pt")["pixel_values"][0]
    torch.testing.assert_close(explanation.input, expected, rtol=0, atol=1e-5)
    model = transformers.AutoModelForImageClassification.from_pretrained(folder).eval()
    x = expected[None].requires_grad_(True)
    model(x).logits[0, 1].backward()
    saliency = x.grad[0].abs()  # saliency is |gradient|
    torch.testing.assert_close(explanation.attributions, saliency.to(explanation.attributions.dtype), rtol=1e-5, atol=1e-7)
    assert explanation.image_scores.shape == (40, 48) and explanation.image_mapping == "resize"
    with pytest.raises(TargetError, match="closest first: index: name\\): 1: 'dog'"):
        explainer.explain(photo, target="dgo")


def test_patches_default_to_the_vit_patch_size(folder, photo) -> None:
    ablated = explain_image(str(folder), photo, method="feature_ablation", features="patches")
    assert ablated.features == "8x8 patches" and ablated.segments is not None
    assert int(ablated.segments.max()) + 1 == 16  # a 4 x 4 grid on the 32 x 32 input
    assert all(len(torch.unique(ablated.segments[r : r + 8, c : c + 8])) == 1 for r in range(0, 32, 8) for c in range(0, 32, 8))
    model = transformers.AutoModelForImageClassification.from_pretrained(folder).eval()
    target = list(LABELS.values()).index(ablated.target_label)
    erased = ablated.input.clone()
    erased[:, :8, :8] = -1.0  # the black baseline image, normalised by the processor's mean 0.5 and std 0.5
    with torch.no_grad():
        logits = model(torch.stack([ablated.input, erased])).logits[:, target]
    assert ablated.segment_scores[int(ablated.segments[0, 0])] == pytest.approx(float(logits[0] - logits[1]), abs=1e-5)


def test_a_folder_without_its_processor_is_refused(folder, tmp_path) -> None:
    model = transformers.AutoModelForImageClassification.from_pretrained(folder)
    model.save_pretrained(tmp_path)
    with pytest.raises(InvalidInputError, match="preprocessor_config.json"):
        ImageExplainer.from_pretrained(tmp_path)
    with pytest.raises(InvalidInputError, match="not a local directory"):
        explain_image(str(tmp_path / "missing"), np.zeros((8, 8, 3), np.uint8))


def test_the_explain_image_command_explains_with_a_model_folder(folder, photo, tmp_path, capsys) -> None:
    from PIL import Image

    from limelight.cli import main

    path = tmp_path / "photo.png"
    Image.fromarray(photo).save(path)
    assert main(["explain-image", str(path), "--model", str(folder), "--method", "saliency", "--target", "bird", "--json"]) == 0
    printed = capsys.readouterr().out
    expected = ImageExplainer.from_pretrained(folder, method="saliency").explain(photo, target="bird")
    assert '"target_label": "bird"' in printed and f'"predicted_label": "{expected.predicted_label}"' in printed
