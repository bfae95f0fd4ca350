"""Perturbers: how a coalition of present features becomes the model's inputs.

This is the seam between the coalition methods and the data. The default,
:class:`MaskedBaseline`, keeps the elements of present features and takes the baseline's
elsewhere. A text front end can plug in its own (replace a word's tokens by ``[MASK]``, or delete
the word and re-tokenise): anything with a ``perturb`` method of the :class:`Perturber` shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import Tensor

from ..spaces import Points
from .features import Features


class Perturber(Protocol):
    """Builds model inputs for rows of (example, coalition)."""

    def perturb(self, example_index: Tensor, coalitions: Tensor) -> Points:
        """The forward's positional inputs for each row.

        Row ``r`` is example ``example_index[r]`` with the features where ``coalitions[r]`` (a
        ``(rows, width)`` bool tensor; columns past an example's feature count mean nothing) is
        True present and the others removed. Extra forward arguments given to ``attribute``
        are appended per example, after these inputs.
        """
        ...


@dataclass(frozen=True)
class MaskedBaseline:
    """Absent features take the baseline's values: ``where(present, x, baseline)`` per element."""

    inputs: Points
    baselines: Points
    features: Features

    def perturb(self, example_index: Tensor, coalitions: Tensor) -> Points:
        keep = self.features.present(example_index, coalitions)
        rows = example_index.to(self.inputs[0].device)
        return tuple(torch.where(k, x[rows], b[rows]) for k, x, b in zip(keep, self.inputs, self.baselines))
