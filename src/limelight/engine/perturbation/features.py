"""Features: which feature each input element belongs to, per example.

Perturbation methods switch whole *features* on and off. A feature mask gives, for every element
of every input, an integer feature id; ids of one example are ``0..F-1`` and may span several
inputs. Examples may have different numbers of features (words in texts of different lengths).
The id ``-1`` marks elements that belong to no feature and are never perturbed (special tokens,
padding). Without a mask, every scalar element is its own feature.

Every example needs at least one feature: an input with no elements per example (shape
``(N, 0)``) may sit in a tuple beside others (its attributions are empty), but inputs with no
elements at all, or a mask of only ``-1``, are refused with :class:`InvalidInputError`, by
every perturbation method alike (there would be nothing to perturb, so no score to give).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ...errors import InvalidInputError
from ..precision import exact_dtype
from ..spaces import Points

FeatureMask = None | Tensor | tuple[Tensor, ...]

NOT_A_FEATURE = -1
"""The id of elements that are never perturbed."""


@dataclass(frozen=True)
class Features:
    """Feature ids per input, shaped like the inputs, and the number of features of each example."""

    ids: tuple[Tensor, ...]
    counts: Tensor

    @property
    def width(self) -> int:
        """Columns of a coalition: the largest feature count of any example."""
        return int(self.counts.max())

    def present(self, example_index: Tensor, coalitions: Tensor) -> tuple[Tensor, ...]:
        """Element masks ``(rows, *input_shape)``: whether each element's feature is in its row's coalition.

        ``coalitions`` is ``(rows, width)`` bool; elements that are no feature are always present.
        """
        device = self.ids[0].device
        padded = torch.cat([coalitions.to(device), coalitions.new_ones((coalitions.shape[0], 1)).to(device)], 1)
        return tuple(_gather(padded, self._columns(ids[example_index.to(device)])) for ids in self.ids)

    def spread(self, scores: Tensor) -> tuple[Tensor, ...]:
        """Per-feature scores ``(N, width)`` broadcast to every element of each feature (0 for no feature)."""
        device = self.ids[0].device
        padded = torch.cat([scores, scores.new_zeros((scores.shape[0], 1))], 1).to(device=device, dtype=exact_dtype(device))
        return tuple(_gather(padded, self._columns(ids)) for ids in self.ids)

    def _columns(self, ids: Tensor) -> Tensor:
        """Ids as coalition columns, with elements that are no feature pointing at an always-on column."""
        return torch.where(ids < 0, self.width, ids)


def _flat_per_example(t: Tensor) -> Tensor:
    """``t`` as ``(N, elements of one example)``: also for one scalar (``(N,)``) or no element (``(N, 0)``) per example."""
    return t.reshape(t.shape[0], math.prod(t.shape[1:]))


def _gather(values: Tensor, columns: Tensor) -> Tensor:
    """``values[r, columns[r, ...]]`` for every row ``r``, shaped like ``columns``."""
    return values.gather(1, _flat_per_example(columns)).view(columns.shape)


def element_features(inputs: Points) -> Features:
    """Every scalar element of every input its own feature (numbered input by input)."""
    ids, offset = [], 0
    for x in inputs:
        size = math.prod(x.shape[1:])
        ids.append((torch.arange(size, device=x.device) + offset).view(1, *x.shape[1:]).expand_as(x))
        offset += size
    if offset == 0:
        shapes = ", ".join(str(tuple(x.shape)) for x in inputs)
        raise InvalidInputError(
            f"the inputs have no elements per example (shapes {shapes}), so there is no feature to perturb; "
            "give each example at least one element"
        )
    return Features(tuple(ids), torch.full((inputs[0].shape[0],), offset, dtype=torch.long))


def resolve_features(feature_mask: FeatureMask, inputs: Points) -> Features:
    """Validate a user's ``feature_mask`` (one integer tensor per input, broadcastable to it)."""
    if feature_mask is None:
        return element_features(inputs)
    masks = (feature_mask,) if isinstance(feature_mask, Tensor) else feature_mask
    if not isinstance(masks, tuple) or not all(isinstance(m, Tensor) for m in masks):
        raise InvalidInputError(
            f"feature_mask must be an integer tensor or a tuple of them (one per input), got {type(feature_mask).__name__}"
        )
    if len(masks) != len(inputs):
        raise InvalidInputError(f"feature_mask has {len(masks)} tensors but there are {len(inputs)} inputs; give one per input")
    ids = tuple(_broadcast_mask(m, x, i) for i, (m, x) in enumerate(zip(masks, inputs)))
    return Features(ids, _counts(ids))


def _broadcast_mask(mask: Tensor, x: Tensor, position: int) -> Tensor:
    if mask.dtype == torch.bool or mask.dtype.is_floating_point or mask.dtype.is_complex:
        raise InvalidInputError(f"feature_mask[{position}] must hold integer feature ids, got dtype {mask.dtype}")
    if mask.dim() == 0:  # one id for every element
        mask = mask.reshape((1,) * x.dim())
    if mask.dim() == x.dim() - 1:
        mask = mask.unsqueeze(0)
    if mask.dim() != x.dim() or any(m not in (1, n) for m, n in zip(mask.shape, x.shape)):
        raise InvalidInputError(
            f"feature_mask[{position}] has shape {tuple(mask.shape)}, which does not broadcast to the input's "
            f"{tuple(x.shape)}; use the input's shape, its shape without the batch dimension (one mask for all "
            "examples), or size-1 dimensions to share ids along them"
        )
    if mask.numel() and int(mask.min()) < NOT_A_FEATURE:
        raise InvalidInputError(
            f"feature_mask[{position}] contains the id {int(mask.min())}; ids are 0..F-1, or -1 for elements that are never perturbed"
        )
    return mask.to(device=x.device, dtype=torch.long).expand_as(x)


def _counts(ids: tuple[Tensor, ...]) -> Tensor:
    """Features per example, after checking each example uses exactly the ids ``0..F-1``."""
    flat = torch.cat([_flat_per_example(i) for i in ids], 1).cpu()
    counts = flat.max(1).values + 1 if flat.shape[1] else torch.zeros(flat.shape[0], dtype=torch.long)
    empty = (counts == 0).nonzero().flatten()
    if empty.numel():
        raise InvalidInputError(
            f"example {int(empty[0])} has no features (every id is -1, or the inputs have no elements); "
            "give each example at least one feature id 0"
        )
    width = int(counts.max())
    used = torch.zeros((flat.shape[0], width + 1), dtype=torch.bool).scatter_(1, torch.where(flat < 0, width, flat), True)[:, :width]
    missing = ~used & (torch.arange(width) < counts[:, None])
    if missing.any():
        example, feature = (int(v) for v in missing.nonzero()[0])
        raise InvalidInputError(
            f"feature ids of example {example} are not contiguous: {feature} is missing from 0..{int(counts[example]) - 1}. "
            "Number each example's features 0..F-1 without gaps"
        )
    return counts
