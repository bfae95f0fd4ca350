"""The re-explaining checks for images: max-sensitivity (Yeh et al., 2019) and cascading model
randomisation (Adebayo et al., 2018).

* Max-sensitivity: ``SENS = max_r ||s(x + e_r) - s(x)|| / ||s(x)||`` over ``n_samples`` draws of
  Gaussian pixel noise ``e_r`` of standard deviation ``radius`` (on the image in ``[0, 1]``, clamped
  to it), ``s`` the pixel scores in the model's input space, re-explained for the same target.
  Draw ``r`` depends only on ``(seed, r, image)``, so methods are compared on the same noise.
* Cascading randomisation: re-initialise the model's stages from the output down (the head first;
  :func:`image_randomisation_blocks`), re-explain the same images for the same targets after each
  step and measure Spearman's rho between the original and the new pixel scores
  (:func:`~.sanity.cascade`). An explanation that does not change when the model does ignores it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from limelight.engine.validation import check_count, check_positive
from limelight.errors import InvalidInputError
from limelight.vision.explanation import ImageExplanation

from .image_explainers import ImageExplainerLike, explain_images_like, pixel_scores
from .ranking import spearman
from .robustness import max_relative_change
from .sanity import Block, RandomisationCurve, cascade


def image_max_sensitivity(
    model: nn.Module,
    explainer: ImageExplainerLike,
    explanations: Sequence[ImageExplanation],
    *,
    n_samples: int = 3,
    radius: float = 0.02,
    seed: int = 0,
) -> np.ndarray:
    """Per image, ``max_r ||s(x + e_r) - s(x)|| / ||s(x)||`` (module docstring); ``nan`` for all-zero scores."""
    check_count("n_samples", n_samples)
    check_positive("radius", radius)
    explanations = list(explanations)
    original = [pixel_scores(e) for e in explanations]

    def reexplain(sample: int) -> Iterator[np.ndarray]:
        noisy = [_noisy(e.image, radius, [seed, sample, index]) for index, e in enumerate(explanations)]
        return (pixel_scores(again) for again in explain_images_like(explainer, model, explanations, noisy))

    return max_relative_change(original, n_samples, reexplain, "image", "pixel scores")


def _noisy(image: torch.Tensor, radius: float, seed: list[int]) -> torch.Tensor:
    generator = torch.Generator().manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
    noise = torch.randn(image.shape, generator=generator, dtype=torch.float64).to(image.dtype)
    return (image + radius * noise).clamp(0, 1)


def image_randomisation_blocks(model: nn.Module) -> list[Block]:
    """The model's stages from the output down: its direct children that hold parameters, in reverse order,
    with a stack of layers (an ``nn.ModuleList`` or ``nn.Sequential`` child) split into its layers.

    A wrapper with one such child (and no parameters of its own) is looked through; parameters the
    model holds itself form a block of their own, randomised first.
    """
    prefix, module = "", model
    while True:
        children = [(name, child) for name, child in module.named_children() if any(True for _ in child.parameters())]
        own = [name for name, _ in module.named_parameters(recurse=False)]
        if len(children) != 1 or own:
            break
        prefix, module = _joined(prefix, children[0][0]), children[0][1]
    names = []
    for name, child in reversed(children):
        stack = isinstance(child, (nn.ModuleList, nn.Sequential))
        parts = [f"{name}.{n}" for n, part in reversed(list(child.named_children())) if any(True for _ in part.parameters())]
        names += parts if stack else [name]
    blocks = [Block(_joined(prefix, name), (_joined(prefix, name),)) for name in names]
    if own:
        blocks.insert(0, Block(prefix or "parameters", tuple(_joined(prefix, name) for name in own)))
    return blocks


def _joined(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def image_cascading_randomisation(
    model: nn.Module,
    explainer: ImageExplainerLike,
    explanations: Sequence[ImageExplanation],
    *,
    blocks: Sequence[Block] | None = None,
    seed: int = 0,
    only_final: bool = False,
) -> RandomisationCurve:
    """Randomise ``blocks`` (default :func:`image_randomisation_blocks`) of a copy of ``model`` one after another.

    After each step (``only_final``: only after the last) the images are explained again for the
    same targets; ``spearman[step, image]`` compares the pixel scores. ``model`` is never changed.
    """
    chosen = list(blocks) if blocks is not None else image_randomisation_blocks(model)
    if not chosen:
        raise InvalidInputError("the model has no parameters to randomise")
    explanations = list(explanations)
    original = [pixel_scores(e) for e in explanations]

    def rho_after(copied: nn.Module) -> np.ndarray:
        again = explain_images_like(explainer, copied, explanations)
        return np.array([spearman(a, pixel_scores(b)) for a, b in zip(original, again)], dtype=np.float64)

    return cascade(model, chosen, rho_after, seed, only_final)
