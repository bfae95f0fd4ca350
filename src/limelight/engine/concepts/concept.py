"""A concept: named examples, given as whatever the model takes (a tensor, a tuple of tensors, keyword tensors).

Examples are rows: every tensor of a concept's inputs has one row per example. A tensor is
passed to the model as ``model(x)``, a tuple as ``model(*x)``, a mapping (e.g. token ids and an
attention mask) as ``model(**x)``. Front ends build these from their own objects (texts:
:func:`limelight.text.concepts.text_concept`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ...errors import InvalidInputError

ModelInputs = Tensor | tuple[Tensor, ...] | Mapping[str, Tensor]
"""One batch of model inputs: ``model(x)``, ``model(*x)`` or ``model(**x)``."""


def _tensors(inputs: ModelInputs) -> list[Tensor]:
    if isinstance(inputs, Tensor):
        return [inputs]
    values = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs) if isinstance(inputs, tuple) else None
    if not values or not all(isinstance(v, Tensor) for v in values):
        raise InvalidInputError(
            f"examples must be a tensor, a tuple of tensors or a mapping of names to tensors, got {type(inputs).__name__}"
        )
    return values


def count_rows(inputs: ModelInputs, what: str) -> int:
    """The number of examples; every tensor must have that many rows (and there must be one)."""
    rows = {t.shape[0] if t.dim() else -1 for t in _tensors(inputs)}
    if len(rows) != 1 or -1 in rows:
        raise InvalidInputError(f"every tensor of {what} needs one row per example; got first dimensions {sorted(rows)}")
    (count,) = rows
    if count == 0:
        raise InvalidInputError(f"{what} has no examples")
    return count


def take_rows(inputs: ModelInputs, index: Tensor, device: torch.device) -> ModelInputs:
    """Rows ``index`` of every tensor, moved to ``device``."""
    if isinstance(inputs, Tensor):
        return inputs[index.to(inputs.device)].to(device)
    if isinstance(inputs, Mapping):
        return {k: v[index.to(v.device)].to(device) for k, v in inputs.items()}
    return tuple(v[index.to(v.device)].to(device) for v in inputs)


def call_model(model: Any, inputs: ModelInputs) -> Any:
    """The model on one batch: ``model(x)``, ``model(*x)`` or ``model(**x)``."""
    if isinstance(inputs, Tensor):
        return model(inputs)
    if isinstance(inputs, Mapping):
        return model(**inputs)
    return model(*inputs)


@dataclass(frozen=True, eq=False)
class Concept:
    """A named set of examples (model inputs with one row per example) that show a concept."""

    name: str
    examples: ModelInputs

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise InvalidInputError(f"a concept needs a non-empty name, got {self.name!r}")
        count_rows(self.examples, f"concept {self.name!r}")

    def __len__(self) -> int:
        return count_rows(self.examples, f"concept {self.name!r}")
