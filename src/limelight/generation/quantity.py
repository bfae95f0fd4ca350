"""What is explained for each generated token: its log-probability, probability or logit, or a contrast.

A contrast compares the target's token at each position with the alternative's token at the same
position, both after the same prefix (the prompt and the target's earlier tokens): "why ' Paris'
rather than ' London'". For log-probabilities that is the difference of the two logits (the
normaliser cancels). The alternative covers the target's first ``len(alternative)`` tokens; the
explanation then has that many rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from limelight.engine.validation import check_choice

QUANTITIES: tuple[str, ...] = ("log_probability", "probability", "logit")


@dataclass(frozen=True)
class Quantity:
    """The explained value of a generated token: ``kind``, minus that of the alternative's token when ``contrast``."""

    kind: str = "log_probability"
    contrast: bool = False

    def __post_init__(self) -> None:
        check_choice("quantity", self.kind, QUANTITIES)

    def values(self, logits: Tensor, targets: Tensor, alternatives: Tensor | None) -> Tensor:
        """``(rows, T)`` values from ``(rows, T, vocab)`` logits, ``(rows, T)`` target ids and, for a contrast, alternative ids."""
        value = self._of(logits, targets)
        if self.contrast and alternatives is not None:
            value = value - self._of(logits, alternatives)
        return value

    def _of(self, logits: Tensor, tokens: Tensor) -> Tensor:
        picked = logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
        if self.kind == "logit":
            return picked
        log_prob = picked - torch.logsumexp(logits, dim=-1)
        return log_prob if self.kind == "log_probability" else log_prob.exp()
