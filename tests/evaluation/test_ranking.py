"""Rank orders and rank correlations against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from limelight.errors import InvalidInputError
from limelight.evaluation.ranking import average_ranks, kendall_tau, rank_order, spearman, top_count


def test_rank_order_signed_absolute_and_stable_ties():
    scores = np.array([0.5, -2.0, 0.5, 1.0])
    assert rank_order(scores).tolist() == [3, 0, 2, 1]
    assert rank_order(scores, "absolute").tolist() == [1, 3, 0, 2]
    with pytest.raises(InvalidInputError):
        rank_order(scores, "magnitude")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("n", "fraction", "count"),
    [(10, 0.01, 1), (10, 0.05, 1), (10, 0.1, 1), (10, 0.2, 2), (10, 0.5, 5), (7, 0.5, 4), (3, 1.0, 3), (1, 0.2, 1)],
)
def test_top_count_rounds_up_to_at_least_one_word(n, fraction, count):
    assert top_count(n, fraction) == count


def test_average_ranks_share_ties():
    assert average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist() == [1.5, 3.0, 1.5, 4.0]


def test_spearman_perfect_reversed_and_hand_computed():
    a = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(a, a**3) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    # ranks [1,2,3,4,5] vs [2,1,4,3,5]: d^2 = 1+1+1+1+0 = 4; rho = 1 - 6*4 / (5*24) = 0.8
    assert spearman(a, np.array([2.0, 1.0, 4.0, 3.0, 5.0])) == pytest.approx(0.8)
    assert math.isnan(spearman(a, np.ones(5)))
    assert math.isnan(spearman(a[:1], a[:1]))


def test_kendall_tau_b_hand_computed_with_ties():
    # pairs of [1,2,3] vs [1,1,2]: (0,1) a-untied b-tied, (0,2) concordant, (1,2) concordant
    # tau_b = (2 - 0) / sqrt(3 * 2)
    assert kendall_tau(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0])) == pytest.approx(2 / math.sqrt(6))
    assert kendall_tau(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])) == pytest.approx(-1.0)
    assert math.isnan(kendall_tau(np.array([1.0, 2.0]), np.array([4.0, 4.0])))
    with pytest.raises(InvalidInputError):
        kendall_tau(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]))
