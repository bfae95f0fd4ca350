"""Image views: overlay pixels, scales, captions, figures and escaped HTML."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

import limelight.viz as viz
from limelight.engine.evidence import Evidence
from limelight.errors import InvalidInputError
from limelight.vision import ImageExplanations, Patches, explain_image
from limelight.viz.colors import NEGATIVE_EXTREME, POSITIVE_EXTREME, ColorScale, from_hex
from limelight.viz.image import caption, image_scales, overlay, render_image_html

from .cnns import TinyCNN

HOSTILE = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def explained() -> ImageExplanations:
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    result = explain_image(
        TinyCNN(classes=2).eval(),
        images,
        preprocess=None,
        labels=[HOSTILE, "dog"],
        target=0,
        method="feature_ablation",
        features=Patches(4),
    )
    assert isinstance(result, ImageExplanations)
    return result


def colour(hex_colour: str) -> np.ndarray:
    return np.array(from_hex(hex_colour))


def test_the_strongest_pixels_take_the_palettes_extreme_colours(explained: ImageExplanations) -> None:
    explanation = explained[0]
    scores = explanation.image_scores.double().numpy()
    scale = ColorScale(float(np.abs(scores).max()), "fixed")
    drawn = overlay(explanation, "heatmap", scale)
    strongest = np.unravel_index(np.abs(scores).argmax(), scores.shape)
    expected = POSITIVE_EXTREME if scores[strongest] > 0 else NEGATIVE_EXTREME
    np.testing.assert_allclose(drawn[strongest], colour(expected), atol=1 / 255)
    absolute = overlay(explanation, "heatmap", scale, signed=False)
    np.testing.assert_allclose(absolute[strongest], colour(POSITIVE_EXTREME), atol=1 / 255)
    zero = overlay(replace(explanation, image_scores=torch.zeros(8, 8)), "heatmap", scale)
    np.testing.assert_allclose(zero, np.ones_like(zero), atol=1 / 255)


def test_saturated_pixels_are_outlined_and_masks_keep_the_top_pixels(explained: ImageExplanations) -> None:
    explanation = explained[0]
    scores = explanation.image_scores.double().numpy()
    tight = ColorScale(float(np.abs(scores).max()) / 2, "tight")
    drawn = overlay(explanation, "heatmap", tight)
    saturated = np.abs(scores) > tight.limit
    assert (drawn[saturated] == 0).all(axis=-1).any()  # black outline pixels inside the saturated area
    masked = overlay(explanation, "masked", tight, top_percent=25)
    kept = np.isclose(masked, explanation.image.permute(1, 2, 0).numpy()).all(-1)
    assert kept.sum() >= 16 and kept[np.unravel_index(scores.argmax(), scores.shape)]
    contour = overlay(explanation, "contour", tight, top_segments=1)
    assert np.isclose(contour, colour(POSITIVE_EXTREME), atol=1 / 255).all(-1).any()


def test_one_shared_scale_by_default_and_labelled_per_image_scales(explained: ImageExplanations) -> None:
    shared = image_scales(explained)
    assert shared[0] == shared[1] and "over all 2 images" in shared[0].description
    own = image_scales(explained, "per_image")
    assert all(s.per_text and "NOT comparable" in s.description for s in own)
    assert "own scale" in caption(explained[0], own[0]).lines[-1]
    with pytest.raises(InvalidInputError, match="kind"):
        overlay(explained[0], "sparkles")


def test_captions_warn_when_delta_is_above_tolerance(explained: ImageExplanations) -> None:
    off = replace(explained[0], evidence=Evidence(delta=0.5, input_value=1.0, baseline_value=0.0, tolerance=0.01))
    text = caption(off, image_scales([off])[0])
    assert any(line.startswith("delta: +0.5") for line in text.lines) and "above the tolerance" in text.warning
    assert caption(explained[0], image_scales(explained)[0]).warning is None


def test_figures_are_written_with_panels_and_a_colour_bar(tmp_path, explained: ImageExplanations) -> None:
    png = viz.save_image(tmp_path / "grid.png", explained)
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = viz.save_image(tmp_path / "grid.svg", explained, scale="per_image").read_text()
    assert 'id="panel-0"' in svg and 'id="panel-1"' in svg and "own scale" in svg
    with pytest.raises(InvalidInputError, match="format"):
        viz.save_image(tmp_path / "grid.gif", explained)


def test_html_embeds_images_and_escapes_labels(tmp_path, explained: ImageExplanations) -> None:
    page = viz.save_image_html(tmp_path / "page.html", explained).read_text()
    fragment = explained._repr_html_()
    for html in (page, fragment, render_image_html(explained[0])):
        assert HOSTILE not in html and "&lt;script&gt;" in html
        assert "data:image/png;base64," in html and "http" not in html.replace("http-equiv", "")
    assert explained[0]._repr_html_().count("<img") == 2  # the panel and its colour bar


def test_the_explain_image_command_writes_overlays(tmp_path, capsys) -> None:
    from PIL import Image

    from limelight.cli import build_parser
    from limelight.cli.explain_image import run

    path = tmp_path / "photo.png"
    Image.fromarray((np.random.default_rng(1).random((8, 8, 3)) * 255).astype(np.uint8)).save(path)
    arguments = build_parser().parse_args(["explain-image", str(path), "--method", "saliency", "--output", str(tmp_path / "out.html")])
    assert run(arguments, TinyCNN(classes=2).eval(), lambda image: image, ["cat", "dog"]) == 0
    printed = capsys.readouterr().out
    assert "photo.png: predicted" in printed and (tmp_path / "out.html").read_text().count("data:image/png") >= 2
