"""What is explained: the target's logit (default), probability or log-probability.

Logits are additive and unsquashed: a probability saturates near 0 and 1, which flattens
attributions exactly where the model is most sure. The choice is recorded in every explanation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import read_output
from ..errors import InvalidInputError

QUANTITIES = ("logit", "probability", "log_probability")


def check_quantity(quantity: str) -> str:
    """Validate the explained quantity's name."""
    if quantity not in QUANTITIES:
        raise InvalidInputError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    return quantity


def output_transform(quantity: str) -> Callable[[Any], Tensor]:
    """The engine's ``output=`` callable: from a classifier's raw output to the explained scores."""
    transform: dict[str, Callable[[Tensor], Tensor]] = {
        "logit": lambda logits: logits,
        "probability": lambda logits: torch.softmax(logits, -1),
        "log_probability": lambda logits: torch.log_softmax(logits, -1),
    }
    pick = transform[check_quantity(quantity)]
    return lambda raw: pick(read_output(raw, "logits"))
