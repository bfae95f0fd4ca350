"""Regression heads (one output, no class) and sentence pairs / zero-shot classification with an NLI model."""

from __future__ import annotations

import pytest
import torch

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.text.explainer import TextExplainer
from limelight.text.zero_shot import explain_zero_shot
from limelight.viz.records import summarize
from tests.text.heads.helpers import STEPS, assert_close, captum_token_scores, scores
from tests.text.heads.tiny_heads import tiny_head
from tests.text.tiny_models import LABELS, one_thread, tiny_classifier  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

TEXT = "the film was a quiet triumph"


@pytest.mark.parametrize("architecture", ["bert", "deberta-v2"])
def test_regression_explains_the_predicted_value(architecture):
    model, tokenizer = tiny_head(architecture, "regression")
    batch = tokenizer(TEXT, return_tensors="pt")
    with torch.no_grad():
        value = float(model(**batch).logits[0, 0])
    result = explain(model, tokenizer, TEXT, n_steps=STEPS)
    assert result.head == "regression" and result.probabilities == {}
    assert result.input_value == pytest.approx(value, abs=1e-5)
    assert_close(scores(result.token_spans), captum_token_scores(model, tokenizer, batch, lambda raw: raw.logits, 0))
    summary = summarize(result)
    assert "no class" in summary.prediction and summary.target == "the predicted value"


def test_regression_refuses_class_requests():
    model, tokenizer = tiny_head("bert", "regression")
    with pytest.raises(InvalidInputError, match="one output"):
        TextExplainer(model, tokenizer, quantity="probability")
    with pytest.raises(InvalidInputError, match="no class to contrast"):
        explain(model, tokenizer, TEXT, contrast=0)


def test_zero_shot_is_the_entailment_versus_contradiction_log_odds_of_each_hypothesis():
    model, tokenizer = tiny_classifier("bert")
    model.config.id2label = {0: "contradiction", 1: "neutral", 2: "entailment"}
    model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    try:
        got = explain_zero_shot(model, tokenizer, TEXT, ["cinema", "sport"], method="saliency")
        direct = TextExplainer(model, tokenizer, method="saliency").explain(
            [TEXT, TEXT], ["This example is cinema.", "This example is sport."], target="entailment", contrast="contradiction"
        )
        for one, other in zip(got, direct):
            assert_close(scores(one.word_spans), scores(other.word_spans))
            assert one.segment_names == ["premise", "hypothesis"] and {s.segment for s in one.word_spans} == {0, 1}
        with pytest.raises(InvalidInputError, match="one '\\{\\}'"):
            explain_zero_shot(model, tokenizer, TEXT, ["cinema"], hypothesis_template="no slot")
    finally:
        model.config.id2label = dict(enumerate(LABELS))
        model.config.label2id = {v: k for k, v in model.config.id2label.items()}
    with pytest.raises(InvalidInputError, match="entailment="):
        explain_zero_shot(model, tokenizer, TEXT, ["cinema"])


def test_zero_shot_needs_a_sequence_classifier():
    model, tokenizer = tiny_head("bert", "token_classification")
    with pytest.raises(InvalidInputError, match="NLI sequence classifier"):
        explain_zero_shot(model, tokenizer, TEXT, ["cinema"])
