"""Sampled Shapley estimators carry each word's standard error into the text explanation."""

import math

import pytest

from limelight import TextExplainer
from limelight.text.explanation import Explanation

from .tiny_models import tiny_classifier

LONG = "the film was good but the ending felt far too long and slow"
SHORT = "a fine film"


@pytest.fixture(scope="module")
def tiny():
    return tiny_classifier("bert")


def test_sampled_words_carry_standard_errors_that_do_not_depend_on_the_batch(tiny):
    explainer = TextExplainer(*tiny, method="kernel_shap", n_samples=30, seed=0)
    both = explainer.explain([LONG, SHORT])
    alone = explainer.explain(LONG)
    errors = [w.standard_error for w in both[0].word_spans]
    assert len(errors) == len(LONG.split()) and all(e is not None for e in errors)
    assert any(e > 0 for e in errors if not math.isnan(e))
    assert errors == [w.standard_error for w in alone.word_spans]
    assert all(t.standard_error is None for t in both[0].token_spans)
    again = Explanation.from_json(alone.to_json())
    assert [w.standard_error for w in again.word_spans] == errors


def test_exact_and_gradient_methods_have_none_and_enumerated_games_have_zero(tiny):
    exact = TextExplainer(*tiny, method="shapley").explain(SHORT)
    assert all(w.standard_error is None for w in exact.word_spans)
    gradient = TextExplainer(*tiny, method="saliency").explain(SHORT)
    assert all(w.standard_error is None for w in gradient.word_spans)
    enumerated = TextExplainer(*tiny, method="shapley_sampling").explain(SHORT)  # 3 words: KernelSHAP enumerates them
    assert [w.standard_error for w in enumerated.word_spans] == [0.0, 0.0, 0.0]
