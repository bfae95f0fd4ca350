"""Faithfulness metrics on the one-word model, where every answer is known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.evaluation import (
    ERASER_FRACTIONS,
    WordEraser,
    aopc,
    completeness_error,
    comprehensiveness,
    deletion_curves,
    insertion_curves,
    leave_one_out,
    leave_one_out_tau,
    sufficiency,
)
from limelight.evaluation.curves import curve_counts
from tests.evaluation.models import TEXTS, WEIGHT, hand_explanation, perfect_scores, reversed_scores, word_position
from tests.text.tiny_tokenizers import bpe_tokenizer


def _hand(tokenizer, scorer, **kwargs):
    return [hand_explanation(tokenizer, text, scorer(text), **kwargs) for text in TEXTS]


@pytest.mark.parametrize("fill", ["delete", "pad", "mask", "unk"])
def test_comprehensiveness_is_maximal_for_the_word_ranked_first_and_zero_ranked_last(one_word, fill):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer, fill=fill)
    first = comprehensiveness(eraser, _hand(tokenizer, perfect_scores))
    last = comprehensiveness(eraser, _hand(tokenizer, reversed_scores))
    assert first.shape == last.shape == (len(TEXTS), len(ERASER_FRACTIONS))
    # f(x) = WEIGHT and f(x \ S) = 0 whenever S holds the word: the largest drop any erasure can give.
    np.testing.assert_allclose(first, WEIGHT)
    # Ranked last, the word is outside the top 50% of words, so no bin erases it.
    np.testing.assert_allclose(last, 0.0)
    np.testing.assert_allclose(aopc(first), WEIGHT)


def test_sufficiency_is_zero_when_the_word_is_kept_and_full_when_it_is_not(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    np.testing.assert_allclose(sufficiency(eraser, _hand(tokenizer, perfect_scores)), 0.0)
    np.testing.assert_allclose(sufficiency(eraser, _hand(tokenizer, reversed_scores)), WEIGHT)


def test_probability_quantity_follows_eraser_definition(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer, quantity="probability")
    values = comprehensiveness(eraser, _hand(tokenizer, perfect_scores))
    # p(word | x) = sigmoid(WEIGHT); without the word both logits are 0, so p = 1/2.
    np.testing.assert_allclose(values, 1.0 / (1.0 + math.exp(-WEIGHT)) - 0.5)


def test_deletion_and_insertion_curves_and_their_areas(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    text = TEXTS[0]
    n = len(text.split())
    [good] = deletion_curves(eraser, [hand_explanation(tokenizer, text, perfect_scores(text))])
    [bad] = deletion_curves(eraser, [hand_explanation(tokenizer, text, reversed_scores(text))])
    np.testing.assert_array_equal(good.counts, np.arange(n + 1))
    np.testing.assert_allclose(good.values, [WEIGHT] + [0.0] * n)
    np.testing.assert_allclose(bad.values, [WEIGHT] * n + [0.0])
    # Trapezoids over fractions j/n: one falling step at the start vs. at the end.
    assert good.area == pytest.approx(WEIGHT / (2 * n))
    assert bad.area == pytest.approx(WEIGHT * (1 - 1 / (2 * n)))
    [grows] = insertion_curves(eraser, [hand_explanation(tokenizer, text, perfect_scores(text))])
    np.testing.assert_allclose(grows.values, [0.0] + [WEIGHT] * n)
    assert grows.area == pytest.approx(WEIGHT * (1 - 1 / (2 * n)))


def test_curve_counts_cover_both_ends():
    assert curve_counts(0) == []
    assert curve_counts(4) == [0, 1, 2, 3, 4]
    assert curve_counts(4, steps=10) == [0, 1, 2, 3, 4]
    assert curve_counts(100, steps=4) == [0, 25, 50, 75, 100]


def test_leave_one_out_effects_and_kendall_tau(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    text = TEXTS[1]
    [effects] = leave_one_out(eraser, [hand_explanation(tokenizer, text, perfect_scores(text))])
    expected = np.zeros(len(text.split()))
    expected[word_position(text)] = WEIGHT
    np.testing.assert_allclose(effects, expected)
    same = hand_explanation(tokenizer, text, expected.tolist())
    opposite = hand_explanation(tokenizer, text, (-expected).tolist())
    np.testing.assert_allclose(leave_one_out_tau(eraser, [same, opposite]), [1.0, -1.0])
    flat = hand_explanation(tokenizer, text, [1.0] * len(expected))
    assert math.isnan(leave_one_out_tau(eraser, [flat])[0])


def test_completeness_error_uses_delta_or_recomputes_against_the_baseline(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    text = TEXTS[0]
    n = len(text.split())
    exact = hand_explanation(tokenizer, text, [WEIGHT if i == word_position(text) else 0.0 for i in range(n)], baseline="pad")
    short = hand_explanation(tokenizer, text, [0.0] * n, baseline="pad")
    carried = hand_explanation(tokenizer, text, [0.0] * n, baseline="pad", delta=-0.25)
    deleted = hand_explanation(tokenizer, text, [1.0] * n, baseline="delete")
    none = hand_explanation(tokenizer, text, [0.0] * n, baseline="none")
    errors = completeness_error(eraser, [exact, short, carried, deleted, none])
    np.testing.assert_allclose(errors[:4], [0.0, WEIGHT, 0.25, abs(n - WEIGHT)])
    assert math.isnan(errors[4])
    ig = explain(model, tokenizer, list(TEXTS))
    assert np.all(completeness_error(eraser, ig) < 1e-6)


def test_all_variants_go_through_few_forwards_and_are_cached(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer, fill="pad", batch_size=64)
    explanations = _hand(tokenizer, perfect_scores)
    comprehensiveness(eraser, explanations)
    # Padding keeps each variant as long as its text, so the 3 full texts and their distinct variants
    # (up to 15) need at most one forward per text length, never one per variant.
    assert model.calls <= len(TEXTS) < 2 * len(TEXTS) < model.rows <= 18
    calls = model.calls
    comprehensiveness(eraser, explanations)
    sufficiency(eraser, explanations, fractions=(1.0,))  # keeping every word is the full text: cached
    assert model.calls == calls


def test_windowed_texts_are_scored_like_the_explainer_predicts(one_word):
    model, tokenizer = one_word
    text = "the film was a quiet triumph and the film was a quiet triumph again film"
    [exp] = explain(model, tokenizer, [text], max_length=8, quantity="probability")
    assert exp.windows, "the text must need several windows for this test"
    eraser = WordEraser(model, tokenizer, max_length=8)
    [subject] = eraser.prepare([exp])
    assert eraser.full([subject])[0] == pytest.approx(exp.probabilities[exp.target_label])


def test_an_explanation_from_another_tokenizer_is_refused(one_word):
    model, tokenizer = one_word
    other = hand_explanation(bpe_tokenizer(), "the film was a quiet triumph", [0.0] * 6)
    with pytest.raises(InvalidInputError, match="tokenizer"):
        WordEraser(model, tokenizer).prepare([other])


def test_bad_settings_are_refused(one_word):
    model, tokenizer = one_word
    with pytest.raises(InvalidInputError, match="fill"):
        WordEraser(model, tokenizer, fill="blank")
    with pytest.raises(InvalidInputError, match="batch_size"):
        WordEraser(model, tokenizer, batch_size=0)
    with pytest.raises(InvalidInputError, match="fractions"):
        comprehensiveness(WordEraser(model, tokenizer), _hand(tokenizer, perfect_scores), fractions=(0.0,))


def test_text_pairs_erase_words_of_either_segment(one_word):
    model, tokenizer = one_word
    [exp] = explain(model, tokenizer, ["a quiet triumph"], ["nobody expected the film"], method="input_x_gradient")
    assert [s.segment for s in exp.word_spans] == [0] * 3 + [1] * 4
    eraser = WordEraser(model, tokenizer)
    np.testing.assert_allclose(comprehensiveness(eraser, [exp]), WEIGHT)
    [effects] = leave_one_out(eraser, [exp])
    np.testing.assert_allclose(effects, [0, 0, 0, 0, 0, 0, WEIGHT])
