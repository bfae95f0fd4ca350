"""Extractive QA: start, end and span (their sum) of the predicted or a given answer, over question and context."""

from __future__ import annotations

import pytest
import torch

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.text.explainer import TextExplainer
from limelight.text.focus import MAX_ANSWER_TOKENS
from limelight.viz import render_html
from tests.text.heads.helpers import STEPS, assert_close, captum_token_scores, scores
from tests.text.heads.tiny_heads import HEAD_ARCHITECTURES, tiny_head
from tests.text.tiny_models import one_thread  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

QUESTION = "where does john live"
CONTEXT = "john lives in paris with his cat and works in rome"


def predicted_span(model, tokenizer, question: str, context: str) -> tuple[int, int]:
    """The best (start, end) over context tokens by brute force: start <= end < start + MAX_ANSWER_TOKENS."""
    batch = tokenizer(question, context, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch)
    context_tokens = [i for i, s in enumerate(batch.sequence_ids(0)) if s == 1]
    pairs = [(s, e) for s in context_tokens for e in context_tokens if s <= e < s + MAX_ANSWER_TOKENS]
    return max(pairs, key=lambda p: float(out.start_logits[0, p[0]] + out.end_logits[0, p[1]]))


@pytest.mark.parametrize("architecture", HEAD_ARCHITECTURES)
def test_start_end_and_span_of_the_predicted_answer_match_captum(architecture):
    model, tokenizer = tiny_head(architecture, "question_answering")
    start, end, span = explain(model, tokenizer, QUESTION, text_pairs=CONTEXT, n_steps=STEPS)
    assert [e.target_label for e in (start, end, span)] == ["start", "end", "span"]
    first, last = predicted_span(model, tokenizer, QUESTION, CONTEXT)
    batch = tokenizer(QUESTION, CONTEXT, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch)
    assert start.input_value == pytest.approx(float(out.start_logits[0, first]), abs=1e-5)
    assert end.input_value == pytest.approx(float(out.end_logits[0, last]), abs=1e-5)
    assert span.input_value == pytest.approx(start.input_value + end.input_value, abs=1e-5)
    assert_close(scores(span.token_spans), scores(start.token_spans) + scores(end.token_spans))  # IG is linear in the output
    reference = captum_token_scores(model, tokenizer, batch, lambda raw: raw.start_logits, first)
    assert_close(scores(start.token_spans), reference)
    assert {w.segment for w in span.word_spans} == {0, 1} and span.segment_names == ["question", "context"]
    assert span.marks and span.marks[0][0] == 1 and span.predicted_label == CONTEXT[span.marks[0][1] : span.marks[0][2]]


def test_a_given_answer_is_explained_and_batches_equal_single_questions():
    model, tokenizer = tiny_head("bert", "question_answering")
    answer = (CONTEXT.index("paris"), CONTEXT.index("paris") + 5)
    given = explain(model, tokenizer, QUESTION, text_pairs=CONTEXT, answer=answer, n_steps=STEPS)
    assert all(e.predicted_label == "paris" for e in given)
    together = explain(model, tokenizer, [QUESTION, "who has a cat"], text_pairs=[CONTEXT, CONTEXT], n_steps=STEPS)
    alone = explain(model, tokenizer, "who has a cat", text_pairs=CONTEXT, n_steps=STEPS)
    for one, other in zip(together[3:], alone):
        assert_close(scores(one.token_spans), scores(other.token_spans))


def test_a_long_context_is_explained_in_the_answers_window():
    model, tokenizer = tiny_head("bert", "question_answering")
    context = " ".join([CONTEXT] * 5)
    result = TextExplainer(model, tokenizer, max_length=24, n_steps=STEPS).explain(QUESTION, context)
    low, high = result[2].read_window
    outside = [s.score for s in result[2].word_spans if s.segment == 1 and (s.end <= low or s.start >= high)]
    assert outside and all(score == 0.0 for score in outside)
    mark = result[2].marks[0]
    assert low <= mark[1] < mark[2] <= high


def test_the_view_shows_question_context_and_the_answer():
    model, tokenizer = tiny_head("bert", "question_answering")
    page = render_html(explain(model, tokenizer, QUESTION, text_pairs=CONTEXT, method="saliency"))
    assert "question" in page and "context" in page and "ll-marked" in page and "start + end logit" in page


def test_requests_that_do_not_fit_a_reader_are_refused():
    model, tokenizer = tiny_head("bert", "question_answering")
    with pytest.raises(InvalidInputError, match="text_pairs=context"):
        explain(model, tokenizer, QUESTION)
    with pytest.raises(InvalidInputError, match="no labels"):
        explain(model, tokenizer, QUESTION, text_pairs=CONTEXT, target=0)
    with pytest.raises(InvalidInputError, match="answer must be"):
        explain(model, tokenizer, QUESTION, text_pairs=CONTEXT, answer=(0, 999))
    with pytest.raises(InvalidInputError, match="quantity='logit'"):
        TextExplainer(model, tokenizer, quantity="probability")
    classifier, classifier_tokenizer = tiny_head("bert", "regression")
    with pytest.raises(InvalidInputError, match="question-answering"):
        explain(classifier, classifier_tokenizer, QUESTION, text_pairs=CONTEXT, answer=(0, 4))


def test_new_fields_survive_json_and_segment_names_are_escaped():
    model, tokenizer = tiny_head("bert", "question_answering")
    context = " ".join([CONTEXT] * 5)
    explained = TextExplainer(model, tokenizer, max_length=24, method="saliency").explain(QUESTION, context)
    for explanation in explained:
        again = type(explanation).from_json(explanation.to_json())
        assert again == explanation and isinstance(again.read_window, tuple) and isinstance(again.marks[0], tuple)
    hostile = explained[0]
    hostile.segment_names = ["<script>q</script>", "context"]
    page = render_html(hostile)
    assert "<script>q" not in page and "&lt;script&gt;q" in page


def test_one_given_answer_per_question():
    model, tokenizer = tiny_head("bert", "question_answering")
    spans = [(CONTEXT.index("paris"), CONTEXT.index("paris") + 5), (CONTEXT.index("cat"), CONTEXT.index("cat") + 3)]
    got = explain(model, tokenizer, [QUESTION, "who has a cat"], text_pairs=[CONTEXT, CONTEXT], answer=spans, method="saliency")
    assert [e.predicted_label for e in got] == ["paris"] * 3 + ["cat"] * 3
    with pytest.raises(InvalidInputError, match="one per question"):
        explain(model, tokenizer, [QUESTION], text_pairs=[CONTEXT], answer=spans, method="saliency")
