"""The t distribution, Welch's test and Bonferroni against closed forms and (when installed) scipy."""

from __future__ import annotations

import math

import pytest

from limelight.engine.concepts.stats import bonferroni, regularized_beta, t_two_sided, welch_t_test
from limelight.errors import InvalidInputError


def test_closed_forms() -> None:
    # df = 1 is the Cauchy distribution: P(|T| > t) = 1 - 2 atan(t) / pi; df = 2: 1 - t / sqrt(2 + t^2).
    for t in (0.0, 0.3, 1.0, 2.5, 40.0):
        assert t_two_sided(t, 1.0) == pytest.approx(1 - 2 * math.atan(t) / math.pi, abs=1e-12)
        assert t_two_sided(t, 2.0) == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-12)
    assert regularized_beta(0.3, 1.0, 1.0) == pytest.approx(0.3)
    assert regularized_beta(0.3, 2.0, 3.0) + regularized_beta(0.7, 3.0, 2.0) == pytest.approx(1.0)


def test_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in (1.5, 3.0, 9.0, 30.0, 300.0):
        for t in (0.1, 1.0, 2.0, 4.0, 9.0):
            assert t_two_sided(t, df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-9, abs=1e-15)
    first, second = [0.9, 0.95, 1.0, 0.85, 0.92], [0.4, 0.62, 0.51, 0.3, 0.7, 0.45]
    ours, theirs = welch_t_test(first, second), stats.ttest_ind(first, second, equal_var=False)
    assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_degenerate_samples_and_refusals() -> None:
    assert welch_t_test([1.0, 1.0], [1.0, 1.0]).p_value == 1.0
    assert welch_t_test([1.0, 1.0], [0.5, 0.5]).p_value == 0.0
    assert bonferroni([0.01, 0.2, 0.5]) == pytest.approx([0.03, 0.6, 1.0])
    assert bonferroni([0.01], comparisons=4) == pytest.approx([0.04])
    with pytest.raises(InvalidInputError, match="n_runs"):
        welch_t_test([1.0], [1.0, 2.0])
    with pytest.raises(InvalidInputError):
        t_two_sided(1.0, 0.0)
