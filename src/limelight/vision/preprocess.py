"""Preprocessing: from an image ``(C, H, W)`` in ``[0, 1]`` to the model's input ``(C, H', W')``.

Any callable of that type works (``preprocess=``). :class:`Preprocess` is the default for
ImageNet classifiers, written with torch operations only: resize the shorter side to
``resize`` pixels (bilinear, antialiased), crop the central ``crop`` x ``crop`` square, and
normalise each channel with ``mean`` and ``std`` (ImageNet's by default). Because it is made of
differentiable torch operations, scores can be mapped back onto the original image exactly
(:mod:`limelight.vision.geometry`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InvalidInputError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Preprocessing = Callable[[Tensor], Tensor]
"""An image ``(C, H, W)`` in ``[0, 1]`` -> the model's input ``(C, H', W')``."""


@dataclass(frozen=True)
class Preprocess:
    """Resize the shorter side to ``resize``, centre-crop ``crop``, normalise with ``mean``/``std`` (``None``: no step)."""

    resize: int | None = 256
    crop: int | None = 224
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD

    def __post_init__(self) -> None:
        for name in ("resize", "crop"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise InvalidInputError(f"{name} must be a positive number of pixels or None, got {value!r}")
        if len(self.mean) != len(self.std) or any(s <= 0 for s in self.std):
            raise InvalidInputError(f"mean and std need one value per channel and std > 0, got {self.mean} and {self.std}")

    def __call__(self, image: Tensor) -> Tensor:
        x = image
        if self.resize is not None:
            height, width = x.shape[-2:]
            scale = self.resize / min(height, width)
            size = (max(1, round(height * scale)), max(1, round(width * scale)))
            x = F.interpolate(x[None], size=size, mode="bilinear", align_corners=False, antialias=True)[0]
        if self.crop is not None:
            height, width = x.shape[-2:]
            if self.crop > min(height, width):
                raise InvalidInputError(f"cannot crop {self.crop} x {self.crop} pixels from a {height} x {width} image; resize it first")
            top, left = (height - self.crop) // 2, (width - self.crop) // 2
            x = x[..., top : top + self.crop, left : left + self.crop]
        channels = x.shape[0]
        if len(self.mean) not in (1, channels):
            raise InvalidInputError(f"the image has {channels} channels but mean and std have {len(self.mean)} values")
        mean = torch.tensor(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std


def identity(image: Tensor) -> Tensor:
    """No preprocessing: the image in ``[0, 1]`` is the model's input (``preprocess=None``)."""
    return image
