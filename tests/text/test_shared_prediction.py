"""LRP's text explanations read the prediction from LRP's own forward (``limelight.text.prediction``).

Oracles: the two-forward path (the same explainer with the sharing switched off) gives equal
explanations, field by field (scores, predicted label, probabilities, target, evidence), and a
forward counter on the model sees exactly one forward fewer per batch.
"""

from __future__ import annotations

import pytest

import limelight.text.explainer as explainer_module
from limelight import TextExplainer
from limelight.text.encoding import encode_batch
from limelight.text.prediction import shares_forward
from tests.text.tiny_models import ARCHITECTURES, one_thread, tiny_classifier  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

TEXTS = [
    "The film was a quiet triumph, and the audience loved every minute of it.",
    "Dull.",
    "A long and winding story that never quite finds its feet, though the cast tries hard.",
]
LONG = " ".join(["the plot meanders but the actors keep it alive"] * 6)
"""Several windows at ``max_length=16``."""


def explain_counting(explainer: TextExplainer, shared: bool, monkeypatch: pytest.MonkeyPatch, *args, **kwargs):
    """``explainer.explain(*args, **kwargs)`` with the prediction shared or not, and how many model forwards it ran."""
    calls = []
    handle = explainer.model.register_forward_hook(lambda module, inputs, output: calls.append(1))
    try:
        with monkeypatch.context() as patch:
            if not shared:
                patch.setattr(explainer_module, "shares_forward", lambda *a: False)
            explainer.explain(*args, **kwargs)  # warms the probe memo, which knows the counting hook
            calls.clear()
            return explainer.explain(*args, **kwargs), len(calls)
    finally:
        handle.remove()


def batch_count(explainer: TextExplainer, texts: list[str]) -> int:
    pieces = explainer.runner.pieces(encode_batch(explainer.tokenizer, texts, None))
    return len(explainer.runner.batches([p.encoding for p in pieces]))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("target", [None, "positive", [0, None, 2]])
def test_one_forward_fewer_per_batch_and_the_same_explanations(architecture, target, monkeypatch):
    model, tokenizer = tiny_classifier(architecture)
    explainer = TextExplainer(model, tokenizer, method="lrp", batch_size=2)
    shared, shared_calls = explain_counting(explainer, True, monkeypatch, TEXTS, target=target)
    separate, separate_calls = explain_counting(explainer, False, monkeypatch, TEXTS, target=target)
    assert list(shared) == list(separate)
    for one, other in zip(shared, separate):
        assert (one.predicted_label, one.probabilities, one.target_label) == (
            other.predicted_label,
            other.probabilities,
            other.target_label,
        )
    # a list with gaps needs the prediction first: no sharing there (see limelight.text.prediction)
    saved = 0 if isinstance(target, list) else batch_count(explainer, TEXTS)
    assert separate_calls - shared_calls == saved and batch_count(explainer, TEXTS) >= 2


@pytest.mark.parametrize("target", [None, "negative"])
def test_a_text_in_several_windows(target, monkeypatch):
    model, tokenizer = tiny_classifier("bert")
    explainer = TextExplainer(model, tokenizer, method="lrp", max_length=16, batch_size=2)
    texts = [LONG, TEXTS[1]]
    shared, shared_calls = explain_counting(explainer, True, monkeypatch, texts, target=target)
    separate, separate_calls = explain_counting(explainer, False, monkeypatch, texts, target=target)
    assert shared[0].windows and list(shared) == list(separate)
    # with target=None the class of a windowed text is the argmax of the mean over its windows: it needs the forward first
    assert separate_calls - shared_calls == (0 if target is None else batch_count(explainer, texts))


def test_contrast_and_other_quantities_keep_the_separate_forward():
    model, tokenizer = tiny_classifier("bert")
    explainer = TextExplainer(model, tokenizer, method="lrp")
    plans = []
    assert shares_forward(explainer.method, explainer.head, None, None, "logit", plans)
    assert not shares_forward(explainer.method, explainer.head, None, "negative", "logit", plans)
    assert not shares_forward(explainer.method, explainer.head, None, None, "probability", plans)
    assert shares_forward(explainer.method, explainer.head, "positive", "negative", "probability", plans)
    ig = TextExplainer(model, tokenizer)
    assert not shares_forward(ig.method, ig.head, "positive", None, "logit", plans)


@pytest.mark.parametrize("quantity", ["probability", "log_probability"])
def test_a_given_target_in_other_quantities(quantity, monkeypatch):
    model, tokenizer = tiny_classifier("roberta")
    explainer = TextExplainer(model, tokenizer, method="lrp", quantity=quantity, batch_size=2)
    shared, shared_calls = explain_counting(explainer, True, monkeypatch, TEXTS, target="neutral", contrast="negative")
    separate, separate_calls = explain_counting(explainer, False, monkeypatch, TEXTS, target="neutral", contrast="negative")
    assert list(shared) == list(separate) and separate_calls - shared_calls == batch_count(explainer, TEXTS)
