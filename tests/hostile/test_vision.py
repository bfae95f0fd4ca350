"""The image front end against the hostile corpus: ``limelight.vision.explain_image`` and ``limelight explain-image``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import limelight.cli.explain_image
from limelight.errors import LimelightError
from limelight.vision import explain_image
from limelight.viz import render_image_html
from tests.hostile.conftest import assert_neutralised
from tests.hostile.corpus import LABELS, Case, case_ids, outcome
from tests.vision.cnns import TinyCNN

pytestmark = pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")

PIXELS = torch.rand(3, 8, 8, generator=torch.Generator().manual_seed(0))
NAMES = ["cat", "dog", "car", "tree"]


def _png(path: Path) -> Path:
    from PIL import Image

    Image.fromarray((PIXELS.permute(1, 2, 0).numpy() * 255).astype(np.uint8)).save(path)
    return path


def _files(root: Path) -> dict[str, Path]:
    """Image files that are not images (or not whole ones)."""
    good = _png(root / "good.png")
    files = {"missing": root / "missing.png", "a folder": root}
    (root / "empty.png").write_bytes(b"")
    (root / "text.png").write_text("the film was good\n", encoding="utf-8")
    (root / "truncated.png").write_bytes(good.read_bytes()[:40])
    files.update({name: root / f"{name}.png" for name in ("empty", "text", "truncated")})
    return files


IMAGES = (
    Case("None", None, must_refuse=True),
    Case("an int", 5, must_refuse=True),
    Case("bytes", b"\x89PNG\r\n", must_refuse=True),
    Case("empty list", [], must_refuse=True),
    Case("a list holding None", [PIXELS, None], must_refuse=True),
    Case("NaN pixels", torch.full((3, 8, 8), float("nan")), must_refuse=True),
    Case("infinite pixels", torch.full((3, 8, 8), float("inf")), must_refuse=True),
    Case("floats outside [0, 1]", PIXELS * 255, must_refuse=True),
    Case("one-dimensional array", np.zeros(8), must_refuse=True),
    Case("five-dimensional tensor", torch.zeros(1, 1, 3, 8, 8), must_refuse=True),
    Case("zero-size image", torch.zeros(3, 0, 0), must_refuse=True),
    Case("complex tensor", torch.zeros(3, 8, 8, dtype=torch.complex64), must_refuse=True),
    Case("uint16 array", np.full((8, 8, 3), 1000, dtype=np.uint16)),
    Case("bool array", np.ones((8, 8, 3), dtype=bool)),
    Case("one channel for a three-channel model", torch.rand(1, 8, 8)),
    Case("channels last tensor", PIXELS.permute(1, 2, 0)),
)

OPTIONS = (
    Case("misspelled keyword n_step", options={"n_step": 8}, must_refuse=True),
    Case("target 1.0", options={"target": 1.0}, must_refuse=True),
    Case("target out of range", options={"target": 99}, must_refuse=True),
    Case("target unknown label", options={"target": "cta"}, must_refuse=True),
    Case("n_steps huge", options={"n_steps": 10**7}, must_refuse=True),
    Case("n_steps zero", options={"n_steps": 0}, must_refuse=True),
    Case("memory_budget 0B", options={"memory_budget": "0B"}, must_refuse=True),
    Case("unknown method", options={"method": "grad_cam_"}, must_refuse=True),
    Case("unknown quantity", options={"quantity": "prob"}, must_refuse=True),
    Case("unknown baseline", options={"baseline": "blak"}, must_refuse=True),
    Case("unknown features", options={"method": "feature_ablation", "features": "slik"}, must_refuse=True),
    Case("unknown pooling", options={"pooling": "avg"}, must_refuse=True),
    Case("unknown preprocess", options={"preprocess": "imagenett"}, must_refuse=True),
    Case("unknown layer", options={"method": "layer_grad_cam", "layer": "conv9"}, must_refuse=True),
    Case("occlusion window zero", options={"method": "occlusion", "window": 0}, must_refuse=True),
    Case("occlusion stride beyond window", options={"method": "occlusion", "window": 2, "stride": 4}, must_refuse=True),
    Case("labels too few", options={"labels": ["cat"]}, must_refuse=True),
)


def _explain(images: Any, **options: Any) -> Callable[[], Any]:
    settings = {"preprocess": None, "labels": NAMES, "n_steps": 8, **options}
    if settings.get("method", "integrated_gradients") != "integrated_gradients" or "n_step" in settings:
        settings.pop("n_steps")
    return lambda: explain_image(TinyCNN(), images, **settings)


@pytest.mark.parametrize("case", IMAGES, ids=case_ids)
def test_images(case: Case) -> None:
    outcome(case, _explain(case.value))


@pytest.mark.parametrize("name", ["missing", "a folder", "empty", "text", "truncated"])
def test_image_files(name: str, tmp_path: Path) -> None:
    outcome(Case(f"image file: {name}", must_refuse=True), _explain(_files(tmp_path)[name]))


@pytest.mark.parametrize("case", OPTIONS, ids=case_ids)
def test_options(case: Case) -> None:
    outcome(case, _explain(PIXELS, **case.options))


@pytest.mark.parametrize("case", LABELS, ids=case_ids)
def test_label_names_cannot_spoof_the_views(case: Case) -> None:
    explanation = outcome(case, _explain(PIXELS, labels=[*case.value, "fourth"], target=2))
    if isinstance(explanation, LimelightError):
        return
    page = render_image_html(explanation)
    assert "<img src=x" not in page and "<script" not in page
    assert_neutralised(page, html=True)


@pytest.fixture
def tiny_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """``explain-image`` with the tiny CNN standing in for the demo model (imagenet preprocessing)."""
    monkeypatch.setattr(limelight.cli.explain_image, "demo_image_model", lambda: (TinyCNN(), None, NAMES))


@pytest.mark.parametrize("name", ["missing", "a folder", "empty", "text", "truncated"])
def test_command_line_image_files(name: str, cli, tiny_demo: None, tmp_path: Path) -> None:
    assert cli("explain-image", str(_files(tmp_path)[name]), "--method", "saliency").status == 1


@pytest.mark.parametrize(
    "arguments",
    [
        ["--target", "1.0"],
        ["--target", "99"],
        ["--method", "nope"],
        ["--baseline", "blak"],
        ["--output", "/no/such/folder/x.png"],
        ["--kind", "nope"],
    ],
    ids=lambda a: " ".join(a),
)
def test_command_line_options(arguments: list[str], cli, tiny_demo: None, tmp_path: Path) -> None:
    assert cli("explain-image", str(_png(tmp_path / "good.png")), "--method", "saliency", *arguments).status in (1, 2)


def test_command_line_good_image(cli, tiny_demo: None, tmp_path: Path) -> None:
    """The refusals above are not trivial: the same command on a good image works."""
    run = cli("explain-image", str(_png(tmp_path / "good.png")), "--method", "saliency")
    assert run.status == 0 and "good.png: predicted" in run.stdout
