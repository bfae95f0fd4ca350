"""Re-explaining keeps targets, contrasts and pairs; a method name becomes an explainer."""

from __future__ import annotations

import pytest

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.evaluation import MethodExplainer
from limelight.evaluation.explainers import explain_like
from tests.evaluation.models import TEXTS


def test_explain_like_reproduces_targets_contrasts_and_pairs(one_word):
    model, tokenizer = one_word
    plain = list(explain(model, tokenizer, list(TEXTS[:2]), target="other", method="input_x_gradient"))
    contrastive = list(explain(model, tokenizer, [TEXTS[2]], target="word", contrast="other", method="input_x_gradient"))
    paired = list(explain(model, tokenizer, [TEXTS[0]], ["a film"], method="input_x_gradient"))
    originals = plain + contrastive + paired
    again = explain_like(MethodExplainer(tokenizer, "input_x_gradient"), model, originals)
    for before, after in zip(originals, again):
        assert (after.text, after.text_pair, after.target_label, after.contrast_label) == (
            before.text,
            before.text_pair,
            before.target_label,
            before.contrast_label,
        )
        assert after.words == before.words


def test_an_explainer_must_return_one_explanation_per_text(one_word):
    model, tokenizer = one_word
    originals = list(explain(model, tokenizer, list(TEXTS), method="saliency"))
    with pytest.raises(InvalidInputError, match="one per text"):
        explain_like(lambda *args: originals[:1], model, originals)
