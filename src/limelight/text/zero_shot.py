"""Zero-shot classification with an NLI model, explained: the text is the premise, each label a hypothesis.

Hugging Face's zero-shot pipeline scores a candidate label by asking an NLI classifier whether
the text (premise) entails ``hypothesis_template.format(label)``; with independent labels the
score is the entailment-versus-contradiction log-odds. That is exactly a contrastive
explanation of a sentence-pair classifier (target ``entailment``, contrast ``contradiction``),
so each candidate is explained by :class:`~limelight.text.explainer.TextExplainer` on its pair,
all candidates in one call, with both segments (premise and hypothesis) scored and shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import InvalidInputError
from .explainer import TextExplainer
from .explanation import Explanations

DEFAULT_TEMPLATE = "This example is {}."
"""The hypothesis template of Hugging Face's zero-shot pipeline."""


def nli_label(names: list[str], stem: str, given: str | int | None) -> int:
    """The index of the NLI label ``given``, or of the one label whose name starts with ``stem`` (case-insensitive)."""
    if given is not None:
        if isinstance(given, int) and 0 <= given < len(names):
            return given
        if isinstance(given, str) and given in names:
            return names.index(given)
        raise InvalidInputError(f"{given!r} is not a label of this NLI model ({names})")
    found = [i for i, name in enumerate(names) if name.lower().startswith(stem)]
    if len(found) != 1:
        raise InvalidInputError(
            f"cannot tell which of the model's labels {names} is '{stem}...'; "
            "pass entailment= and contradiction= (names or indices) for this NLI model"
        )
    return found[0]


def explain_zero_shot(
    model: Any,
    tokenizer: Any,
    text: str,
    candidate_labels: Sequence[str],
    *,
    hypothesis_template: str = DEFAULT_TEMPLATE,
    entailment: str | int | None = None,
    contradiction: str | int | None = None,
    **settings: Any,
) -> Explanations:
    """One explanation per candidate label: why the NLI model finds ``text`` entails the label's hypothesis.

    The explained score is ``logit(entailment) - logit(contradiction)`` of the pair
    ``(text, hypothesis_template.format(label))``; ``settings`` go to :class:`TextExplainer`.
    Each explanation's ``segment_names`` are ``["premise", "hypothesis"]``.
    """
    if not isinstance(hypothesis_template, str) or hypothesis_template.count("{}") != 1:
        raise InvalidInputError(f"hypothesis_template must hold one '{{}}' for the label, got {hypothesis_template!r}")
    if isinstance(candidate_labels, str) or not candidate_labels or not all(isinstance(c, str) and c.strip() for c in candidate_labels):
        raise InvalidInputError(f"candidate_labels must be a non-empty list of label names, got {candidate_labels!r}")
    if not isinstance(text, str):
        raise InvalidInputError(f"text must be a string, got {type(text).__name__}")
    explainer = TextExplainer(model, tokenizer, **settings)
    if explainer.head != "single_label_classification" or len(explainer.labels) < 2:
        raise InvalidInputError(
            f"zero-shot classification needs an NLI sequence classifier; this model is {explainer.head.replace('_', ' ')}"
        )
    names = explainer.labels
    entail, contradict = nli_label(names, "entail", entailment), nli_label(names, "contradict", contradiction)
    hypotheses = [hypothesis_template.format(label) for label in candidate_labels]
    explained = explainer.explain([text] * len(hypotheses), hypotheses, target=entail, contrast=contradict)
    for explanation in explained:
        explanation.segment_names = ["premise", "hypothesis"]
    return explained
