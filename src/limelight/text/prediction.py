"""The prediction read from the explaining method's own forward, for methods that run each text once.

The front end needs every text's logits at its input: for the predicted label and probabilities of
its explanation and, with ``target=None``, for the class to explain. A single-pass method (LRP,
:attr:`~.methods.GradientTextMethod.predicts`) runs the model on exactly the batch's rows at their
inputs before its backward anyway, and its rules keep the forward's values, so reading the logits
there saves the separate forward of every batch and gives the same numbers.

The separate forward stays where the class to explain depends on the prediction in a way one batch
cannot settle before the method runs: a text in several windows (its class is the argmax of the
mean over windows, which may lie in other batches), a list of targets with gaps, a contrast (its
warning names the texts whose target is the contrast) and a quantity other than the logit (the
method's output is then a softmax, whose rounding could tie what the logits do not); and for heads
other than single-label and regression (multi-label picks labels by threshold; token and QA heads
explain positions chosen from the whole output).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor

from ..engine.forward import OutputSpec
from .runner import host_logits
from .tasks import REGRESSION, SINGLE_LABEL
from .windows import WindowPlan


def shares_forward(method: Any, head: str, target: Any, contrast: Any, quantity: str, plans: Sequence[WindowPlan]) -> bool:
    """Whether the prediction can be read from ``method``'s own forward for this request (see the module docstring)."""
    if not getattr(method, "predicts", False) or head not in (SINGLE_LABEL, REGRESSION):
        return False
    if target is None:
        return contrast is None and quantity == "logit" and not any(plan.is_windowed for plan in plans)
    return not (isinstance(target, Sequence) and not isinstance(target, str) and any(t is None for t in target))


def predicted_score(output: Tensor) -> Tensor:
    """Each row's largest output, the predicted class's logit: the engine target of texts explained for their prediction.

    The rows are whole texts (one window each), so this is the class the separate forward would pick
    (the first largest logit, as ``argmax`` of the float64 copy picks it).
    """
    return output.gather(1, output.argmax(1, keepdim=True)).squeeze(1)


class Predictions:
    """Per piece, the logits the method's forward computed, kept as the runner keeps its own (:func:`~.runner.host_logits`)."""

    def __init__(self, output: OutputSpec) -> None:
        self.output = output
        self.per_piece: dict[int, Tensor] = {}

    def observer(self, indices: Sequence[int]) -> Callable[[Any], None]:
        """What the method hands each raw forward output of a batch of these pieces to (chunks in row order)."""
        waiting = list(indices)

        def observe(raw: Any) -> None:
            logits = host_logits(raw, self.output)
            self.per_piece.update(zip(waiting[: len(logits)], logits))
            del waiting[: len(logits)]

        return observe

    def logits(self, count: int) -> list[Tensor]:
        """The logits of pieces ``0..count-1``."""
        return [self.per_piece[index] for index in range(count)]
