"""The one explained scalar of a classifier: a target class, an optional contrast, a quantity.

Explaining and every metric measure the same number, whatever the modality:
``quantity(logits)[target] - quantity(logits)[contrast]`` (no contrast: just the target's). The
quantity is the target's logit (default), probability or log-probability. Logits are additive and
unsquashed: a probability saturates near 0 and 1, which flattens attributions exactly where the
model is most sure (ERASER's comprehensiveness and sufficiency are defined on probabilities, so
both are offered). The engine's target (:meth:`Objective.engine_target`) and output transform
(:func:`output_transform`) are derived from here, so explainers and metrics cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..errors import InvalidInputError
from .forward import read_output
from .targets import Contrast
from .validation import check_choice

QUANTITIES = ("logit", "probability", "log_probability")
"""The quantities a class score can be explained in."""

_TRANSFORMS: dict[str, Callable[[Tensor], Tensor]] = {
    "logit": lambda logits: logits,
    "probability": lambda logits: torch.softmax(logits, -1),
    "log_probability": lambda logits: torch.log_softmax(logits, -1),
}


def check_quantity(quantity: str) -> str:
    """Validate the explained quantity's name."""
    check_choice("quantity", quantity, QUANTITIES)
    return quantity


def output_transform(quantity: str) -> Callable[[Any], Tensor]:
    """The engine's ``output=`` callable: from a classifier's raw output (a tensor or a ``logits`` mapping) to scores."""
    pick = _TRANSFORMS[check_quantity(quantity)]
    return lambda raw: pick(read_output(raw, "logits"))


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
        scores = _TRANSFORMS[self.quantity](logits.to(torch.float64))
        value = scores[:, self.target]
        return value if self.contrast is None else value - scores[:, self.contrast]

    @staticmethod
    def engine_target(objectives: Sequence[Objective]) -> Any:
        """The engine's target for a batch with one objective per row: class indices, or a :class:`Contrast`.

        The quantity is not part of it: it is the method's ``output=`` (:func:`output_transform`),
        shared by the whole batch.
        """
        targets = [objective.target for objective in objectives]
        contrasts = {objective.contrast for objective in objectives}
        if contrasts == {None}:
            return targets
        if None in contrasts:
            raise InvalidInputError("a batch mixes contrastive and plain objectives; explain them in separate calls")
        versus = [objective.contrast for objective in objectives if objective.contrast is not None]
        return Contrast(targets, versus[0] if len(contrasts) == 1 else versus)
