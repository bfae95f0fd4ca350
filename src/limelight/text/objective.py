"""The objective a text explanation explained, rebuilt for its metrics (the objective itself is the engine's)."""

from __future__ import annotations

from ..engine.objective import Objective, check_quantity
from ..errors import InvalidInputError
from .explanation import Explanation
from .labels import resolve_label

# Heads whose explained scalar is a class score of the sequence output, which metrics know how to re-measure.
_SEQUENCE_HEADS = ("single_label_classification", "regression", "multi_label_classification")


def objective_of(explanation: Explanation, labels: list[str], quantity: str | None = None) -> Objective:
    """The objective an explanation explained; ``quantity`` overrides its quantity (e.g. ERASER's ``"probability"``).

    Metrics re-run the model and read its sequence output through this objective, so explanations
    of other heads (a token, an answer, a similarity) and multi-label sigmoid probabilities, which
    the engine's softmax objective would misread, are refused rather than measured wrongly.
    """
    chosen = check_quantity(quantity or explanation.quantity)
    if explanation.head not in _SEQUENCE_HEADS:
        raise InvalidInputError(
            f"metrics re-measure a sequence classifier's class score; this explanation is of a "
            f"{explanation.head.replace('_', ' ')} head: limelight.compare measures those with "
            "limelight.evaluation.head_erasure.HeadEraser"
        )
    if explanation.head == "multi_label_classification" and chosen != "logit":
        raise InvalidInputError(
            f"a multi-label model's {chosen} is a sigmoid per label, which metrics do not re-measure; use quantity='logit'"
        )
    contrast = None if explanation.contrast_label is None else resolve_label(explanation.contrast_label, labels, "contrast")
    return Objective(resolve_label(explanation.target_label, labels), chosen, contrast)
