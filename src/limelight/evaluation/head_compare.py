"""What ``compare`` uses for token classification, question answering and sentence similarity.

:func:`~.compare.compare` detects these models (:func:`comparison_head`) and explains each input
exactly once with a :class:`HeadExplainer`:

* token classification: the label (``target``, default: predicted) of the token ``token=`` (an
  index, or one per text) or ``span=`` (characters, or one span per text) picks;
* question answering (``texts`` questions, ``text_pairs`` contexts): the predicted answer, or
  ``answer=`` (one span, or one per question), explained for ``part`` (default ``"span"``:
  start + end logit);
* sentence similarity (a bare encoder such as ``BertModel``; ``text_pairs`` the second texts):
  the cosine similarity, by :func:`~limelight.text.similarity.explain_similarity`.

The metrics (:data:`HEAD_METRICS`) are the shared erasure metrics, dropout infidelity and the
leave-one-out agreement, computed through :class:`~.head_erasure.HeadEraser` (what each head's
quantity is and which words are features is documented there); intervals, agreement and the
recommendation are :func:`~.compare.compare`'s own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from limelight.errors import InvalidInputError
from limelight.text.explainer import TextExplainer
from limelight.text.explanation import Explanation
from limelight.text.labels import LabelSpec
from limelight.text.similarity import SIMILARITY_HEAD, explain_similarity
from limelight.text.tasks import QA_PARTS, QUESTION_ANSWERING, TOKEN_CLASSIFICATION, detect_head

from . import faithfulness
from .head_erasure import HeadEraser, HeadSubject
from .metric import Metric
from .metrics import ERASURE_METRICS, INFIDELITY_DROPOUT, MetricSettings

REQUESTS: tuple[str, ...] = ("token", "span", "answer", "part")
"""``compare`` options that say which position or part of these heads is explained (popped from its settings)."""


def comparison_head(model: nn.Module) -> str | None:
    """The head :func:`compare_heads` handles for ``model``, or ``None`` for a sequence classifier.

    A bare Hugging Face encoder (a ``PreTrainedModel`` named ``...Model`` with no task head, e.g. ``BertModel``)
    is a bi-encoder whose explained quantity is the cosine similarity of two texts.
    """
    head = detect_head(model)
    if head in (TOKEN_CLASSIFICATION, QUESTION_ANSWERING):
        return head
    name = type(model).__name__
    encoder = hasattr(model, "base_model_prefix") and hasattr(model, "get_input_embeddings")  # a transformers model
    return SIMILARITY_HEAD if encoder and name.endswith("Model") and "For" not in name else None


@dataclass(frozen=True)
class HeadMetricContext:
    """Everything a head metric needs to score one method's explanations."""

    eraser: HeadEraser
    subjects: Sequence[HeadSubject]
    explanations: Sequence[Explanation]
    settings: MetricSettings


def _loo_tau(c: HeadMetricContext) -> np.ndarray:
    return faithfulness.leave_one_out_tau(c.eraser, c.subjects)


_TABLE: tuple[Metric[HeadMetricContext], ...] = (
    *ERASURE_METRICS,
    Metric("loo_tau", "leave-one-out tau", True, "faithfulness", _loo_tau),
    INFIDELITY_DROPOUT,
)
HEAD_METRICS: dict[str, Metric[HeadMetricContext]] = {metric.name: metric for metric in _TABLE}
"""The metrics of token, answer and similarity explanations, in table order."""


@dataclass(frozen=True)
class HeadExplainer:
    """One explanation per input for ``head`` with ``method`` (``request``: token / span / answer / part)."""

    tokenizer: Any
    head: str
    method: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    request: Mapping[str, Any] = field(default_factory=dict)

    def __call__(
        self, model: nn.Module, texts: Sequence[str], text_pairs: Sequence[str] | None, target: Any, contrast: LabelSpec
    ) -> list[Explanation]:
        if contrast is not None:
            raise InvalidInputError(f"contrast= does not apply to a {self.head.replace('_', ' ')} comparison")
        if self.head != TOKEN_CLASSIFICATION and text_pairs is None:
            raise InvalidInputError(f"a {self.head.replace('_', ' ')} comparison reads pairs: give text_pairs= (one per text)")
        if self.head == SIMILARITY_HEAD:
            pairs = list(text_pairs or [])
            return [explain_similarity(model, self.tokenizer, a, b, method=self.method, **self.settings) for a, b in zip(texts, pairs)]
        explainer = TextExplainer(model, self.tokenizer, method=self.method, **self.settings)
        if self.head == QUESTION_ANSWERING:
            if target is not None:
                raise InvalidInputError("a question-answering comparison has no labels: give answer= (spans of the contexts), not target=")
            part = self.request.get("part", "span")
            if part not in QA_PARTS:
                raise InvalidInputError(f"part must be one of {QA_PARTS}, got {part!r}")
            explained = explainer.explain(list(texts), list(text_pairs or []), answer=self.request.get("answer"))
            return [e for e in explained if e.target_label == part]
        return [
            explainer.explain(text, target=target, **{name: value[number] for name, value in self._positions(len(texts)).items()})
            for number, text in enumerate(texts)
        ]

    def _positions(self, count: int) -> dict[str, list[Any]]:
        """``token=`` or ``span=`` as one entry per text."""
        given = {name: self.request[name] for name in ("token", "span") if self.request.get(name) is not None}
        if len(given) != 1:
            raise InvalidInputError(
                "a token-classification comparison explains one token per text: give token= (an index, or one per text) "
                "or span= (start, end), not both"
            )
        name, value = next(iter(given.items()))
        one = isinstance(value, int) if name == "token" else isinstance(value, tuple)
        values = [value] * count if one else list(value)
        if len(values) != count:
            raise InvalidInputError(f"{name}= has {len(values)} entries for {count} texts; give one, or one per text")
        return {name: values}


def head_explainers(
    tokenizer: Any,
    head: str,
    methods: Mapping[str, Any],
    settings: Mapping[str, Any],
    per_method: Mapping[str, Mapping[str, Any]],
    request: Mapping[str, Any],
) -> dict[str, Any]:
    """Label -> explainer: a :class:`HeadExplainer` for a method name, any other explainer callable as given."""
    return {
        label: HeadExplainer(tokenizer, head, method, {**settings, **per_method.get(label, {})}, request)
        if isinstance(method, str)
        else method
        for label, method in methods.items()
    }
