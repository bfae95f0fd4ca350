"""The number a metric measures on the model: the explained class's quantity, as the explanation defines it.

Metrics re-run the model on altered texts and read the same scalar the explanation explained:
the target label's logit (or probability, or log-probability), minus the contrast label's when
the explanation is contrastive. ERASER's comprehensiveness and sufficiency are defined on
probabilities; limelight explains logits by default. Both are supported, and every result records
which quantity it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation
from limelight.text.labels import label_names, resolve_label
from limelight.text.quantity import check_quantity, output_transform


@dataclass(frozen=True)
class Objective:
    """``quantity(logits)[target] - quantity(logits)[contrast]`` (no contrast: just the target's)."""

    target: int
    quantity: str = "logit"
    contrast: int | None = None

    def __post_init__(self) -> None:
        check_quantity(self.quantity)

    def value(self, logits: Tensor) -> Tensor:
        """One value per row of ``(rows, classes)`` logits (computed in float64)."""
        scores = output_transform(self.quantity)(logits.to(torch.float64))
        value = scores[:, self.target]
        return value if self.contrast is None else value - scores[:, self.contrast]


def model_labels(model: Any) -> list[str]:
    """The label names of a Hugging Face-style classifier, in class-index order."""
    config = getattr(model, "config", None)
    count = getattr(config, "num_labels", None)
    if not isinstance(count, int) or count < 1:
        raise InvalidInputError("the model needs a config with num_labels (and ideally id2label), like a Hugging Face classifier")
    return label_names(config, count)


def objective_of(explanation: Explanation, labels: list[str], quantity: str | None = None) -> Objective:
    """The objective an explanation explained; ``quantity`` overrides its quantity (e.g. ERASER's ``"probability"``)."""
    contrast = None if explanation.contrast_label is None else resolve_label(explanation.contrast_label, labels, "contrast")
    return Objective(
        target=resolve_label(explanation.target_label, labels),
        quantity=check_quantity(quantity or explanation.quantity),
        contrast=contrast,
    )
