"""Multi-label classifiers: sigmoid probabilities, several labels in one call, equal to each label alone."""

from __future__ import annotations

import pytest
import torch

from limelight import explain
from limelight.errors import InvalidInputError, TargetError
from limelight.text.explainer import TextExplainer
from tests.text.heads.helpers import STEPS, assert_close, captum_token_scores, scores
from tests.text.heads.tiny_heads import HEAD_ARCHITECTURES, TOPICS, tiny_head
from tests.text.tiny_models import one_thread  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

TEXT = "the striker scored twice before the election results came in"


@pytest.mark.parametrize("architecture", HEAD_ARCHITECTURES)
def test_all_labels_in_one_call_equal_each_label_alone(architecture):
    model, tokenizer = tiny_head(architecture, "multi_label_classification")
    together = explain(model, tokenizer, [TEXT, "a short one"], labels="all", n_steps=STEPS)
    assert [e.target_label for e in together] == list(TOPICS) * 2
    for explanation in together:
        alone = explain(model, tokenizer, explanation.text, target=explanation.target_label, n_steps=STEPS)
        assert_close(scores(explanation.token_spans), scores(alone.token_spans))
        assert explanation.head == "multi_label_classification"


def test_probabilities_are_sigmoids_and_probability_explains_the_sigmoid():
    model, tokenizer = tiny_head("bert", "multi_label_classification")
    with torch.no_grad():
        logits = model(**tokenizer(TEXT, return_tensors="pt")).logits[0].double()
    result = explain(model, tokenizer, TEXT, target="music", quantity="probability", n_steps=STEPS)
    assert list(result.probabilities.values()) == pytest.approx(torch.sigmoid(logits).tolist(), abs=1e-6)
    assert result.input_value == pytest.approx(float(torch.sigmoid(logits[2])), abs=1e-6)
    assert abs(result.delta) <= 1e-2 * abs(result.input_value - result.baseline_value) + 1e-6


def test_default_explains_every_label_above_the_threshold():
    model, tokenizer = tiny_head("bert", "multi_label_classification")
    with torch.no_grad():
        probabilities = torch.sigmoid(model(**tokenizer(TEXT, return_tensors="pt")).logits[0])
    for threshold in (0.3, 0.5, 0.7, 0.999):
        expected = [t for t, p in zip(TOPICS, probabilities) if p >= threshold] or [TOPICS[int(probabilities.argmax())]]
        got = explain(model, tokenizer, TEXT, threshold=threshold, method="saliency")
        assert [e.target_label for e in got] == expected


def test_scores_equal_captum_for_a_label_logit():
    model, tokenizer = tiny_head("roberta", "multi_label_classification")
    result = explain(model, tokenizer, TEXT, target="politics", n_steps=STEPS)
    reference = captum_token_scores(model, tokenizer, tokenizer(TEXT, return_tensors="pt"), lambda raw: raw.logits, 1)
    assert_close(scores(result.token_spans), reference)


def test_labels_that_do_not_fit_are_refused():
    model, tokenizer = tiny_head("bert", "multi_label_classification")
    explainer = TextExplainer(model, tokenizer, method="saliency")
    with pytest.raises(TargetError, match="unknown label"):
        explainer.explain(TEXT, labels=["sports", "cooking"])
    with pytest.raises(InvalidInputError, match="not both"):
        explainer.explain(TEXT, labels=["sports"], target="music")
    with pytest.raises(InvalidInputError, match="threshold"):
        explainer.explain(TEXT, threshold=1.5)
    single, single_tokenizer = tiny_head("bert", "regression")
    with pytest.raises(InvalidInputError, match="multi-label"):
        explain(single, single_tokenizer, TEXT, labels=["score"])


def test_metrics_refuse_what_they_would_misread():
    from limelight.text.objective import objective_of

    model, tokenizer = tiny_head("bert", "multi_label_classification")
    explained = explain(model, tokenizer, TEXT, target="music", quantity="probability", method="saliency")
    with pytest.raises(InvalidInputError, match="sigmoid"):
        objective_of(explained, list(TOPICS))
    assert objective_of(explained, list(TOPICS), "logit").target == TOPICS.index("music")
    reader, reader_tokenizer = tiny_head("bert", "question_answering")
    answer = explain(reader, reader_tokenizer, "who", text_pairs="john lives here", method="saliency")[0]
    with pytest.raises(InvalidInputError, match="question answering head"):
        objective_of(answer, ["start", "end"])
