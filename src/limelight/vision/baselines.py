"""Baselines for images: what "no information" looks like, built as an image and preprocessed like one.

Kinds (``baseline=``):

- ``"black"`` (default): all zeros;
- ``"blur"`` or ``Baseline("blur", sigma=...)``: the image under a Gaussian blur of ``sigma``
  image pixels (10 by default), which removes detail but keeps colour and layout;
- ``"noise"`` or ``Baseline("noise", seed=...)``: uniform noise in ``[0, 1]`` (seeded);
- ``"mean"``: every pixel the image's mean colour;
- custom: a tensor shaped like the model's input ``(C', H', W')`` (or a batch of them), used as is,
  or a callable from the image ``(C, H, W)`` to a baseline image, which is then preprocessed.

Baselines built as images go through the same preprocessing as the image, so a black baseline is
black for a normalised model too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..engine.validation import check_positive, is_int
from ..errors import InvalidInputError
from .geometry import preprocessed
from .preprocess import Preprocessing

KINDS = ("black", "blur", "noise", "mean")


@dataclass(frozen=True)
class Baseline:
    """A named baseline kind with its parameter: ``sigma`` (blur, in image pixels) or ``seed`` (noise)."""

    kind: str = "black"
    sigma: float = 10.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InvalidInputError(
                f"unknown baseline {self.kind!r}; use one of {KINDS}, a tensor shaped like the model's input, or a callable"
            )
        check_positive("sigma", self.sigma)
        if not is_int(self.seed):
            raise InvalidInputError(f"seed must be an int, got {self.seed!r}")

    def image(self, image: Tensor) -> Tensor:
        """The baseline image for ``image`` (both ``(C, H, W)`` in ``[0, 1]``)."""
        if self.kind == "black":
            return torch.zeros_like(image)
        if self.kind == "blur":
            return gaussian_blur(image, self.sigma)
        if self.kind == "noise":
            return torch.rand(image.shape, generator=torch.Generator().manual_seed(self.seed), dtype=image.dtype)
        return image.mean((1, 2), keepdim=True).expand_as(image).clone()

    def describe(self) -> str:
        return {"blur": f"blur (sigma={self.sigma:g})", "noise": f"uniform noise (seed {self.seed})", "mean": "mean colour"}.get(
            self.kind, self.kind
        )


BaselineLike = str | Baseline | Tensor | Callable[[Tensor], Tensor]


def parse_baseline(value: BaselineLike) -> Baseline | Tensor | Callable[[Tensor], Tensor]:
    """What a user passed as ``baseline=``, checked."""
    if isinstance(value, str):
        return Baseline(value)
    if isinstance(value, (Baseline, Tensor)) or callable(value):
        return value
    raise InvalidInputError(
        f"baseline must be one of {KINDS}, a Baseline, a tensor shaped like the model's input, or a callable; got {type(value).__name__}"
    )


def describe_baseline(baseline: Baseline | Tensor | Callable[[Tensor], Tensor]) -> str:
    """A short label for reports."""
    return baseline.describe() if isinstance(baseline, Baseline) else "custom"


def baseline_input(
    baseline: Baseline | Tensor | Callable[[Tensor], Tensor], preprocess: Preprocessing, image: Tensor, model_input: Tensor, index: int
) -> Tensor:
    """The baseline in the model's input space for one image (``index`` picks its row of a custom batch)."""
    if isinstance(baseline, Tensor):
        chosen = baseline[index if baseline.shape[0] > 1 else 0] if baseline.dim() == model_input.dim() + 1 else baseline
        if chosen.shape != model_input.shape:
            raise InvalidInputError(
                f"a tensor baseline must be shaped like the model's input {tuple(model_input.shape)} (or a batch of them), got {tuple(baseline.shape)}"
            )
        return chosen.to(model_input.dtype)
    made = baseline.image(image) if isinstance(baseline, Baseline) else baseline(image)
    if not isinstance(made, Tensor) or made.shape != image.shape:
        raise InvalidInputError(f"a baseline callable must return an image shaped like its input {tuple(image.shape)}")
    result = preprocessed(preprocess, made)
    if result.shape != model_input.shape:
        raise InvalidInputError(f"the preprocessed baseline has shape {tuple(result.shape)}, the image's input {tuple(model_input.shape)}")
    return result.detach()


def gaussian_blur(image: Tensor, sigma: float) -> Tensor:
    """``image`` ``(C, H, W)`` blurred with a Gaussian of ``sigma`` pixels (separable, reflected edges)."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = (kernel / kernel.sum()).to(image.dtype)
    x = image[:, None]  # channels as a batch of one-channel images
    for dim in (2, 3):
        size = x.shape[dim]
        pad = min(radius, size - 1)
        shape = (1, 1, -1, 1) if dim == 2 else (1, 1, 1, -1)
        padding = (0, 0, pad, pad) if dim == 2 else (pad, pad, 0, 0)
        padded = F.pad(x, padding, mode="reflect") if pad else x
        weights = kernel[radius - pad : radius + pad + 1].reshape(shape)
        x = F.conv2d(padded, weights / weights.sum())
    return x[:, 0].clamp(0, 1)
