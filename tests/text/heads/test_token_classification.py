"""Token classifiers: the label of one token (by index or character span), or of every entity, in its window."""

from __future__ import annotations

import pytest
import torch

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.text.encoding import encode
from limelight.text.explainer import TextExplainer
from limelight.viz import render_html
from tests.text.heads.helpers import STEPS, assert_close, captum_token_scores, scores
from tests.text.heads.tiny_heads import HEAD_ARCHITECTURES, TAGS, tiny_head
from tests.text.tiny_models import one_thread  # noqa: F401

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")]

TEXT = "john lives in paris with his cat"


@pytest.mark.parametrize("architecture", HEAD_ARCHITECTURES)
def test_a_span_explains_its_first_token_like_captum(architecture):
    model, tokenizer = tiny_head(architecture, "token_classification")
    result = explain(model, tokenizer, TEXT, span=(14, 19), n_steps=STEPS)
    batch = tokenizer(TEXT, return_tensors="pt", return_offsets_mapping=True)
    offsets = batch.pop("offset_mapping")[0].tolist()
    position = next(i for i, (a, b) in enumerate(offsets) if a < 19 and b > 14 and b > a)
    with torch.no_grad():
        logits = model(**batch).logits[0, position]
    label = int(logits.argmax())
    assert result.target_label == TAGS[label] and result.head == "token_classification"
    explained = result.token_spans[position]  # offsets as limelight cleans them (no leading space)
    assert result.marks == [(0, explained.start, explained.end)]
    assert result.input_value == pytest.approx(float(logits[label]), abs=1e-5)
    reference = captum_token_scores(model, tokenizer, batch, lambda raw: raw.logits, (position, label))
    assert_close(scores(result.token_spans), reference)
    same = explain(model, tokenizer, TEXT, token=position, n_steps=STEPS)
    assert_close(scores(same.token_spans), scores(result.token_spans))


def test_every_entity_in_one_call_equals_each_token_alone_and_is_batch_invariant():
    model, tokenizer = tiny_head("bert", "token_classification")
    texts = [TEXT, "mary went to rome"]
    together = explain(model, tokenizer, texts, n_steps=STEPS)
    assert together and all(e.target_label != "O" for e in together)
    for explanation in together:
        index = next(i for i, s in enumerate(explanation.token_spans) if (0, s.start, s.end) == explanation.marks[0])
        alone = explain(model, tokenizer, explanation.text, token=index, n_steps=STEPS)
        assert_close(scores(explanation.token_spans), scores(alone.token_spans))


def test_a_long_text_is_explained_in_the_window_that_owns_the_token():
    model, tokenizer = tiny_head("bert", "token_classification")
    long_text = " ".join([TEXT] * 6)
    explainer = TextExplainer(model, tokenizer, max_length=16, n_steps=STEPS)
    start = long_text.index("paris", 60)
    result = explainer.explain(long_text, span=(start, start + 5))
    assert result.read_window is not None
    low, high = result.read_window
    outside = [s.score for s in result.word_spans if s.end <= low or s.start >= high]
    assert outside and all(score == 0.0 for score in outside)
    encoding = encode(tokenizer, long_text)
    plan = explainer.runner.plan(encoding)
    window = next(w for w in plan.windows if (w.char_start, w.char_end) == (low, high))
    token = next(i for i, (a, b) in enumerate(encoding.offsets) if (0, a, b) == result.marks[0])
    assert window.owned_start <= token < window.owned_end  # the window that owns the token
    ids = torch.tensor([[encoding.input_ids[i] for i in window.indices]])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, window.indices.index(token)]
    assert result.input_value == pytest.approx(float(logits[TAGS.index(result.target_label)]), abs=1e-5)


def test_the_view_marks_the_explained_token():
    model, tokenizer = tiny_head("bert", "token_classification")
    page = render_html(explain(model, tokenizer, TEXT, span=(0, 4), method="saliency"))
    assert page.count("ll-marked") >= 2  # the stylesheet and the word


def test_requests_that_do_not_fit_a_token_classifier_are_refused():
    model, tokenizer = tiny_head("bert", "token_classification")
    with pytest.raises(InvalidInputError, match="not both"):
        explain(model, tokenizer, TEXT, token=1, span=(0, 4))
    with pytest.raises(InvalidInputError, match="special token"):
        explain(model, tokenizer, TEXT, token=0)
    with pytest.raises(InvalidInputError, match="span must be"):
        explain(model, tokenizer, TEXT, span=(5, 500))
    with pytest.raises(InvalidInputError, match="contrast"):
        explain(model, tokenizer, TEXT, token=1, contrast="O")
    sequence, sequence_tokenizer = tiny_head("bert", "multi_label_classification")
    with pytest.raises(InvalidInputError, match="token classifier"):
        explain(sequence, sequence_tokenizer, TEXT, token=1)
