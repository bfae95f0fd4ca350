"""Which head a Hugging Face text model has, and the output each head explains.

The head is read from the model class and ``config.problem_type``, as ``transformers`` itself
decides its loss: ``*ForTokenClassification`` scores every token, ``*ForQuestionAnswering``
scores answer starts and ends, a sequence classifier is multi-label when its problem type says
so (independent sigmoids), a regressor when it has one output (or says ``"regression"``), and
single-label (a softmax over classes) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import read_output
from ..engine.objective import output_transform
from ..errors import InvalidInputError, TargetError
from .labels import LabelSpec, resolve_label

SINGLE_LABEL = "single_label_classification"
MULTI_LABEL = "multi_label_classification"
REGRESSION = "regression"
TOKEN_CLASSIFICATION = "token_classification"
QUESTION_ANSWERING = "question_answering"
HEADS = (SINGLE_LABEL, MULTI_LABEL, REGRESSION, TOKEN_CLASSIFICATION, QUESTION_ANSWERING)
"""Every head :func:`detect_head` can answer, as recorded in ``Explanation.head``."""

# Multi-label quantities: each label is its own sigmoid, so "probability" is sigmoid(logit), not a softmax.
_SIGMOID_TRANSFORMS: dict[str, Callable[[Tensor], Tensor]] = {
    "logit": lambda logits: logits,
    "probability": torch.sigmoid,
    "log_probability": torch.nn.functional.logsigmoid,
}

QA_PARTS = ("start", "end", "span")
"""What a question-answering explanation explains: the start logit, the end logit, or their sum."""


def detect_head(model: Any) -> str:
    """The head of a Hugging Face text model (one of :data:`HEADS`)."""
    name = type(model).__name__
    if name.endswith("ForTokenClassification"):
        return TOKEN_CLASSIFICATION
    if name.endswith("ForQuestionAnswering"):
        return QUESTION_ANSWERING
    config = getattr(model, "config", None)
    problem = getattr(config, "problem_type", None)
    if problem == MULTI_LABEL:
        return MULTI_LABEL
    if problem == REGRESSION or getattr(config, "num_labels", None) == 1:
        return REGRESSION
    return SINGLE_LABEL


def head_output(head: str, quantity: str) -> Callable[[Any], Tensor]:
    """The engine's ``output=`` for ``head``: from the model's raw output to the tensor targets index.

    Sequence and token classifiers give their logits in ``quantity`` (a softmax over the last
    dimension, i.e. over labels; sigmoids for multi-label). Question answering gives a
    ``(rows, 4, seq)`` tensor ``[start, end, -end, 0]``: the start or end logit of a position is a
    plain index, and the span score ``start[s] + end[e]`` is the difference of two of its entries,
    so :func:`qa_target` expresses all three as one kind of engine target in one batch.
    """
    if head == MULTI_LABEL:
        pick = _SIGMOID_TRANSFORMS[quantity]
        return lambda raw: pick(read_output(raw, "logits"))
    if head == QUESTION_ANSWERING:
        return qa_output
    return output_transform(quantity)


def qa_output(raw: Any) -> Tensor:
    """``[start, end, -end, 0]`` stacked along dimension 1 (see :func:`head_output`)."""
    start, end = qa_logits(raw)
    return torch.stack([start, end, -end, torch.zeros_like(end)], 1)


def qa_logits(raw: Any) -> tuple[Tensor, Tensor]:
    """``(start_logits, end_logits)`` of a question-answering model's output (a ``ModelOutput``, dict or tuple)."""
    if isinstance(raw, dict) or hasattr(raw, "keys"):
        if "start_logits" in raw and "end_logits" in raw:
            return raw["start_logits"], raw["end_logits"]
    elif isinstance(raw, (tuple, list)) and len(raw) >= 2:
        return raw[0], raw[1]
    raise InvalidInputError("a question-answering model must return start_logits and end_logits, like a Hugging Face *ForQuestionAnswering")


def qa_target(part: str, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The ``(target, versus)`` indices into :func:`qa_output` whose difference is the ``part`` explained."""
    zero = (3, 0)
    if part == "start":
        return (0, start), zero
    if part == "end":
        return (1, end), zero
    if part == "span":
        return (0, start), (2, end)
    raise InvalidInputError(f"a question-answering explanation explains one of {QA_PARTS}, got {part!r}")


def multi_label_choice(
    labels: LabelSpec | Sequence[LabelSpec] | str | None, threshold: float, logits: Tensor, names: list[str]
) -> list[int]:
    """The labels of a multi-label model to explain for one text, in class order.

    ``labels``: ``None`` for every label whose sigmoid probability is at least ``threshold`` (the
    most probable one when none is), ``"all"`` for every label, a label, or a list of labels.
    """
    if labels is None:
        probabilities = torch.sigmoid(logits)
        chosen = [i for i, p in enumerate(probabilities.tolist()) if p >= threshold]
        return chosen or [int(probabilities.argmax())]
    if isinstance(labels, str) and labels == "all" and "all" not in names:
        return list(range(len(names)))
    if isinstance(labels, (str, int)):
        return [resolve_label(labels, names, "label")]
    if not isinstance(labels, Sequence) or isinstance(labels, (bytes, bytearray)) or not labels:
        raise TargetError(f"labels must be a label, a non-empty list of labels, 'all' or None; got {labels!r}")
    chosen = sorted({resolve_label(label, names, "label") for label in labels})
    return chosen


def check_threshold(threshold: float) -> float:
    """A multi-label threshold is a probability in (0, 1)."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < float(threshold) < 1.0:
        raise InvalidInputError(f"threshold must be a probability strictly between 0 and 1, got {threshold!r}")
    return float(threshold)
