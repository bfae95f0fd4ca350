"""Between the image and the model's input: what the model saw, and scores mapped back onto the image.

Preprocessing is typically a spatial map (resize, crop, pad, flip) followed by a per-channel
affine normalisation. For such a map both directions need nothing but the callable:

- :func:`seen_image`: the input as an image in ``[0, 1]``, undoing the normalisation with the
  preprocessing of an all-0 and an all-1 image (``(p(x) - p(0)) / (p(1) - p(0))``);
- :func:`pull_back`: input-space scores ``(H', W')`` onto the image's pixels through the
  transpose of the preprocessing's Jacobian: each image pixel gets the mean of the scores of the
  input pixels computed from it (weighted as the preprocessing weighs it; the channels' scales
  cancel), divided by the image pixels per input pixel. So the map has no resampling ripple and
  keeps the total (exactly for an identity and for a constant map, to about a percent otherwise);
  pixels the input does not see (cropped away) score zero.

A preprocessing that is not made of differentiable torch operations cannot be pulled back through;
then the scores are resized to the image (bilinear) and scaled by the ratio of pixel counts
(keeping the total approximately), and :func:`pull_back` says so by returning ``"resize"``
instead of ``"jacobian"``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..errors import InvalidInputError
from .preprocess import Preprocessing


def preprocessed(preprocess: Preprocessing, image: Tensor) -> Tensor:
    """``preprocess(image)`` checked to be a float tensor ``(C', H', W')``."""
    result = preprocess(image)
    if not isinstance(result, Tensor) or result.dim() != 3 or not result.dtype.is_floating_point:
        got = tuple(result.shape) if isinstance(result, Tensor) else type(result).__name__
        raise InvalidInputError(f"preprocess must return a float tensor (C, H', W') for one image (C, H, W), got {got}")
    return result


def seen_image(preprocess: Preprocessing, image: Tensor, model_input: Tensor) -> Tensor:
    """The model's input as an image in ``[0, 1]`` (``(C', H', W')``), for overlays and superpixels."""
    low = preprocessed(preprocess, torch.zeros_like(image))
    high = preprocessed(preprocess, torch.ones_like(image))
    span = high - low
    flat = span.abs() < 1e-12
    return torch.where(flat, 0.5, (model_input - low) / torch.where(flat, 1.0, span)).clamp(0, 1).detach()


def pull_back(preprocess: Preprocessing, image: Tensor, scores: Tensor) -> tuple[Tensor, str]:
    """Scores ``(H', W')`` of the model's input as scores ``(H, W)`` of the image's pixels, and how they were mapped."""
    source = image.detach().to(torch.float64).requires_grad_(True)
    with torch.enable_grad():
        output = preprocessed(preprocess, source)
    if output.requires_grad:
        weights = scores.to(output.dtype).expand_as(output)
        (mapped,) = torch.autograd.grad(output, source, weights, retain_graph=True)
        (coverage,) = torch.autograd.grad(output, source, torch.ones_like(output))
        mapped, coverage = mapped.sum(0), coverage.sum(0)
        density = coverage / (float(coverage.sum()) / scores.numel())  # the share of an input pixel each image pixel makes
        if float(density.max()) > 0:
            typical = float(density[density > 1e-6 * float(density.max())].median())
            seen = density > 0.25 * typical  # resampling ripples around the typical share; the view's rim falls off
            mean = torch.where(seen, mapped / torch.where(seen, coverage, 1.0), 0.0)
            return (mean * (scores.numel() / int(seen.sum()))).to(scores.dtype), "jacobian"
    resized = F.interpolate(scores[None, None].to(torch.float64), size=tuple(image.shape[1:]), mode="bilinear", align_corners=False)[0, 0]
    return (resized * (scores.numel() / resized.numel())).to(scores.dtype), "resize"


def spread_layer_scores(scores: Tensor, size: tuple[int, int]) -> Tensor:
    """Layer scores ``(N, C, h, w)`` as input-space scores ``(N, 1, H', W')`` that keep every cell's total.

    Channels are summed; each layer cell's score is shared equally among the input pixels that
    nearest-neighbour resizing maps to it, so every sum over pixels (and the completeness delta)
    is the layer's own.
    """
    if scores.dim() != 4:
        raise InvalidInputError(
            f"the layer's output has shape {tuple(scores.shape)}; attributing at a layer needs a (N, C, h, w) feature map: "
            "choose a convolutional layer"
        )
    cells = scores.sum(1, keepdim=True)
    height, width = cells.shape[-2:]
    index = torch.arange(height * width, dtype=torch.float64, device=scores.device).reshape(1, 1, height, width)
    owner = F.interpolate(index, size=size, mode="nearest").long().flatten()
    counts = torch.bincount(owner, minlength=height * width).clamp(min=1)
    shared = cells.flatten(2)[:, :, owner] / counts[owner]
    return shared.reshape(cells.shape[0], 1, *size)
