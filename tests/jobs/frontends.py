"""Tiny image and generation explainers and their inputs, shared by the dataset-job tests (and the SIGKILL job script)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from limelight.generation import GenerationExplainer
from limelight.vision import ImageExplainer
from tests.generation import models
from tests.vision.cnns import TinyCNN

LABELS = ["cat", "dog", "bird", "fish"]
PROMPTS = ["the capital of france is", "tell me about paris", "where is the big river", "say hello please"]


def image_explainer() -> ImageExplainer:
    """Integrated gradients (4 steps) on a tiny random CNN over 8 x 8 RGB images, no preprocessing."""
    return ImageExplainer(TinyCNN(), None, LABELS, n_steps=4, tolerance=None)


def generation_explainer() -> GenerationExplainer:
    """Integrated gradients (4 steps) on a tiny random GPT-2 with a word-level tokenizer."""
    return GenerationExplainer(models.gpt2(), models.tokenizer(), n_steps=4)


def write_images(folder: Path, count: int, seed: int = 0) -> list[str]:
    """``count`` random 8 x 8 PNG files in ``folder`` (named ``im<i>.png``); their paths."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(count):
        path = folder / f"im{i}.png"
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths
