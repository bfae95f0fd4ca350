"""Agreement between methods per input, and bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight.errors import InvalidInputError
from limelight.evaluation import agreement
from limelight.evaluation.bootstrap import estimate, resample_indices, resampled_means, win_rate
from tests.evaluation.models import TEXTS, hand_explanation, perfect_scores, reversed_scores
from tests.text.tiny_tokenizers import wordpiece_tokenizer


def test_agreement_per_input_and_flag():
    tokenizer = wordpiece_tokenizer()
    perfect = [hand_explanation(tokenizer, t, perfect_scores(t)) for t in TEXTS]
    flipped = [hand_explanation(tokenizer, t, perfect_scores(t) if i == 0 else reversed_scores(t)) for i, t in enumerate(TEXTS)]
    result = agreement({"a": perfect, "b": perfect, "c": flipped})
    np.testing.assert_allclose(result.pairs[("a", "b")], 1.0)
    np.testing.assert_allclose(result.pairs[("a", "c")], [1.0, -1.0, -1.0])
    # Per input: mean over the three pairs (1, rho_ac, rho_bc).
    np.testing.assert_allclose(result.mean, [1.0, -1 / 3, -1 / 3])
    np.testing.assert_allclose(result.minimum, [1.0, -1.0, -1.0])
    assert result.flagged.tolist() == [False, True, True]
    assert result.least_agreeing(1) == ("a", "c")
    with pytest.raises(InvalidInputError):
        agreement({"a": perfect, "b": perfect[:2]})
    with pytest.raises(InvalidInputError, match="different texts"):
        agreement({"a": perfect, "b": list(reversed(perfect))})


def test_interval_contains_the_mean_and_is_reproducible():
    values = np.random.default_rng(1).normal(2.0, 1.0, 200)
    indices = resample_indices(len(values), 1000, seed=0)
    first = estimate(values, indices)
    assert first.low < first.mean < first.high and first.n == 200
    assert first.mean == pytest.approx(values.mean())
    # A 95% interval of a mean of 200 N(., 1) draws is about +-1.96/sqrt(200) wide.
    assert first.high - first.low == pytest.approx(2 * 1.96 / math.sqrt(200), rel=0.2)
    assert estimate(values, resample_indices(200, 1000, seed=0)) == first
    assert estimate(values, resample_indices(200, 1000, seed=1)) != first


def test_nan_values_are_left_out():
    values = np.array([1.0, math.nan, 3.0])
    indices = np.array([[0, 1, 2], [1, 1, 1], [2, 2, 0]])
    means = resampled_means(values, indices)
    assert means[0] == 2.0 and math.isnan(means[1]) and means[2] == pytest.approx(7 / 3)
    result = estimate(values, indices)
    assert result.mean == 2.0 and result.n == 2
    assert estimate(np.full(3, math.nan), indices).format() == "n/a"
    with pytest.raises(InvalidInputError):
        resample_indices(3, 0, seed=0)


def test_paired_win_rate():
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 1.0, 100)
    indices = resample_indices(100, 500, seed=0)
    # Paired: a constant shift wins every resample although the spread of each is much larger.
    assert win_rate(base + 0.05, base, indices) == 1.0
    assert win_rate(base + 0.05, base, indices, higher_is_better=False) == 0.0
    assert win_rate(base, base, indices) == 0.5
