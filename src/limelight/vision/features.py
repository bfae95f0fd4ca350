"""Features for perturbation methods: segments of the model's input, one id per pixel.

``features=``:

- ``"slic"`` or ``Slic(n_segments=..., compactness=...)``: SLIC superpixels (scikit-image),
  computed on the input the model sees, shown as an image (:func:`~.geometry.seen_image`);
- ``"patches"`` or ``Patches(size=...)``: a regular grid of ``size`` x ``size`` input pixels;
- an integer array or tensor ``(H', W')`` (one mask for every image) or ``(N, H', W')``.

A segment covers all channels of its pixels. Ids are renumbered ``0..F-1`` per image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..engine.validation import check_count, check_positive
from ..errors import InvalidInputError, MissingDependencyError


@dataclass(frozen=True)
class Slic:
    """SLIC superpixels: about ``n_segments`` regions, ``compactness`` trading colour for shape."""

    n_segments: int = 50
    compactness: float = 10.0
    sigma: float = 1.0

    def __post_init__(self) -> None:
        check_count("n_segments", self.n_segments)
        check_positive("compactness", self.compactness)
        check_positive("sigma", self.sigma, allow_zero=True)

    def segments(self, seen: Tensor) -> Tensor:
        try:
            from skimage.segmentation import slic
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise MissingDependencyError("SLIC superpixels need scikit-image: pip install 'limelight[vision]'") from error
        array = seen.permute(1, 2, 0).double().numpy()
        labels = slic(array, n_segments=self.n_segments, compactness=self.compactness, sigma=self.sigma, start_label=0, channel_axis=-1)
        return torch.from_numpy(np.asarray(labels, dtype=np.int64))

    def describe(self) -> str:
        return f"SLIC superpixels (n_segments={self.n_segments}, compactness={self.compactness:g})"


@dataclass(frozen=True)
class Patches:
    """A regular grid of ``size`` x ``size`` pixels of the model's input (the last row and column may be smaller)."""

    size: int = 16

    def __post_init__(self) -> None:
        check_count("size", self.size)

    def segments(self, seen: Tensor) -> Tensor:
        height, width = seen.shape[1:]
        rows = torch.arange(height) // self.size
        columns = torch.arange(width) // self.size
        return rows[:, None] * int(columns.max() + 1) + columns[None, :]

    def describe(self) -> str:
        return f"{self.size}x{self.size} patches"


@dataclass(frozen=True)
class Mask:
    """A user's segment ids ``(H', W')`` for every image, or ``(N, H', W')`` one per image."""

    ids: Tensor

    def segment_map(self, index: int, shape: tuple[int, ...]) -> Tensor:
        chosen = self.ids if self.ids.dim() == 2 else self.ids[index]
        if tuple(chosen.shape) != shape:
            raise InvalidInputError(f"the feature mask is {tuple(chosen.shape)} per image but the model's input is {shape} (H', W')")
        return chosen

    def describe(self) -> str:
        return "custom segments"


FeatureSpec = None | str | Slic | Patches | np.ndarray | Tensor


def parse_features(value: FeatureSpec, patch_size: int | None = None) -> Slic | Patches | Mask | None:
    """What a user passed as ``features=``, checked (``None``: every pixel on its own).

    ``"patches"`` are ``patch_size`` pixels square when given (a vision transformer's own patches), else 16.
    """
    if value is None or isinstance(value, (Slic, Patches)):
        return value
    if isinstance(value, str):
        if value not in ("slic", "patches"):
            raise InvalidInputError(f"unknown features {value!r}; use 'slic', 'patches', Slic(...), Patches(...) or an integer mask")
        return Slic() if value == "slic" else Patches() if patch_size is None else Patches(patch_size)
    if isinstance(value, (np.ndarray, Tensor)):
        ids = torch.as_tensor(value)
        if ids.dtype.is_floating_point or ids.dtype == torch.bool or ids.dim() not in (2, 3):
            raise InvalidInputError(
                f"a feature mask must hold integer ids, shaped (H', W') or (N, H', W'); got {ids.dtype} {tuple(ids.shape)}"
            )
        if ids.numel() and int(ids.min()) < 0:
            raise InvalidInputError("feature mask ids must be non-negative (every pixel belongs to a segment)")
        return Mask(ids.long())
    raise InvalidInputError(f"features must be None, 'slic', 'patches', Slic(...), Patches(...) or an integer mask; got {value!r}")


def segment_map(features: Slic | Patches | Mask, seen: Tensor, index: int) -> Tensor:
    """Segment ids ``(H', W')`` of one image's input, renumbered ``0..F-1``."""
    ids = features.segment_map(index, tuple(seen.shape[1:])) if isinstance(features, Mask) else features.segments(seen)
    return torch.unique(ids, return_inverse=True)[1].reshape(ids.shape)


def segment_sums(scores: Tensor, segments: Tensor) -> list[float]:
    """Each segment's total score (from pixel scores ``(H', W')``)."""
    count = int(segments.max()) + 1
    sums = torch.zeros(count, dtype=torch.float64).index_add_(0, segments.flatten(), scores.flatten().to(torch.float64))
    return sums.tolist()
