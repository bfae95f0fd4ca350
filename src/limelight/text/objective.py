"""The objective a text explanation explained, rebuilt for its metrics (the objective itself is the engine's)."""

from __future__ import annotations

from ..engine.objective import Objective, check_quantity
from .explanation import Explanation
from .labels import resolve_label


def objective_of(explanation: Explanation, labels: list[str], quantity: str | None = None) -> Objective:
    """The objective an explanation explained; ``quantity`` overrides its quantity (e.g. ERASER's ``"probability"``)."""
    contrast = None if explanation.contrast_label is None else resolve_label(explanation.contrast_label, labels, "contrast")
    return Objective(resolve_label(explanation.target_label, labels), check_quantity(quantity or explanation.quantity), contrast)
