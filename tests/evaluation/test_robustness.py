"""Infidelity and max-sensitivity: exact explanations of a linear one-word model have zero infidelity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from limelight import explain
from limelight.errors import InvalidInputError
from limelight.evaluation import MethodExplainer, WordEraser, infidelity, max_sensitivity
from tests.evaluation.models import TEXTS, WEIGHT, hand_explanation, input_only_explainer, word_position


def _scaled(tokenizer, factor: float, everywhere: float = 0.0):
    out = []
    for text in TEXTS:
        n, at = len(text.split()), word_position(text)
        out.append(hand_explanation(tokenizer, text, [factor * WEIGHT if i == at else everywhere for i in range(n)]))
    return out


@pytest.mark.parametrize("perturbation", ["dropout", "embedding"])
def test_exact_scores_have_zero_infidelity_and_wrong_ones_do_not(one_word, perturbation):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    exact = infidelity(eraser, _scaled(tokenizer, 1.0), perturbation, n_samples=20)
    np.testing.assert_allclose(exact, 0.0, atol=1e-12)
    wrong = infidelity(eraser, _scaled(tokenizer, 0.0, everywhere=1.0), perturbation, n_samples=20)
    assert np.all(wrong > 0.1)


def test_normalisation_forgives_scale_but_not_sign(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    doubled = _scaled(tokenizer, 2.0)
    np.testing.assert_allclose(infidelity(eraser, doubled, n_samples=20), 0.0, atol=1e-12)
    raw = infidelity(eraser, doubled, n_samples=20, normalize=False)
    flipped = infidelity(eraser, _scaled(tokenizer, -1.0), n_samples=20)
    # Unnormalised, 2*s predicts 2*WEIGHT for a drop of WEIGHT; flipped, beta is clipped to 0.
    # Either way the error is WEIGHT^2 on exactly the samples that drop the word.
    np.testing.assert_allclose(raw, flipped)
    assert np.all(raw > 0) and np.all(np.isin(np.round(raw / WEIGHT**2 * 20), np.arange(21)))


def test_infidelity_draws_depend_only_on_seed_and_input(one_word):
    model, tokenizer = one_word
    eraser = WordEraser(model, tokenizer)
    explanations = _scaled(tokenizer, 0.0, everywhere=1.0)
    first = infidelity(eraser, explanations, n_samples=5, seed=3)
    np.testing.assert_array_equal(first, infidelity(eraser, explanations, n_samples=5, seed=3))
    assert infidelity(eraser, explanations[:1], n_samples=5, seed=3)[0] == first[0]
    assert not np.array_equal(first, infidelity(eraser, explanations, n_samples=5, seed=4))
    with pytest.raises(InvalidInputError):
        infidelity(eraser, explanations, "shuffle")


def test_max_sensitivity_moves_with_the_model_not_with_input_only_scores(one_word):
    model, tokenizer = one_word
    before = model.embeddings.weight.detach().clone()
    ig = MethodExplainer(tokenizer, "integrated_gradients")
    explanations = list(explain(model, tokenizer, list(TEXTS)))
    moved = max_sensitivity(model, tokenizer, ig, explanations, n_samples=3, radius=0.5, seed=1)
    assert torch.equal(model.embeddings.weight, before), "the embedding table must be restored"
    assert np.all(moved > 0) and np.all(np.isfinite(moved))
    np.testing.assert_array_equal(moved, max_sensitivity(model, tokenizer, ig, explanations, n_samples=3, radius=0.5, seed=1))
    lengths = input_only_explainer(tokenizer)
    still = max_sensitivity(model, tokenizer, lengths, lengths(model, list(TEXTS)), n_samples=3, radius=0.5)
    np.testing.assert_allclose(still, 0.0)
