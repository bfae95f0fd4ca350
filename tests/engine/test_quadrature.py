import math

import numpy as np
import pytest

from limelight.engine.gradient.quadrature import FIXED_RULES, MAX_FIXED_STEPS, fixed_rule
from limelight.errors import InvalidInputError


@pytest.mark.parametrize("rule", FIXED_RULES)
@pytest.mark.parametrize("n", [2, 3, 7, 50, 64])
def test_every_rule_weights_sum_to_one(rule, n):
    alphas, weights = fixed_rule(rule, n)
    assert len(alphas) == len(weights) == n
    assert math.fsum(weights) == pytest.approx(1.0, abs=1e-15)
    assert np.all((alphas >= 0) & (alphas <= 1))


def test_trapezoid_is_not_captums_one_minus_one_over_n():
    # Captum's trapezoid weights sum to 1 - 1/n; ours integrate a constant exactly.
    n = 10
    _, weights = fixed_rule("riemann_trapezoid", n)
    assert abs(math.fsum(weights) - (1 - 1 / n)) > 0.09
    assert weights[0] == weights[-1] == pytest.approx(0.5 / (n - 1))


@pytest.mark.parametrize("n", [1, 2, 5, 9])
def test_gauss_legendre_is_exact_for_polynomials_of_degree_2n_minus_1(n):
    alphas, weights = fixed_rule("gausslegendre", n)
    degree = 2 * n - 1
    assert np.dot(weights, alphas**degree) == pytest.approx(1 / (degree + 1), rel=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "50"])
def test_bad_step_counts_are_rejected(bad):
    with pytest.raises(InvalidInputError, match="n_steps"):
        fixed_rule("gausslegendre", bad)


def test_unknown_rule_lists_the_valid_ones():
    with pytest.raises(InvalidInputError, match="riemann_trapezoid"):
        fixed_rule("simpson", 5)


@pytest.mark.parametrize("n", [*range(1, 130), 257])
def test_gauss_legendre_matches_numpys_companion_matrix_rule(n):
    expected_nodes, expected_weights = np.polynomial.legendre.leggauss(n)
    alphas, weights = fixed_rule("gausslegendre", n)
    np.testing.assert_allclose(alphas, (expected_nodes + 1) / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights, expected_weights / expected_weights.sum(), rtol=0, atol=1e-12)


def test_ten_thousand_gauss_legendre_nodes_build_quickly():
    import time

    start = time.perf_counter()
    alphas, weights = fixed_rule("gausslegendre", MAX_FIXED_STEPS)
    assert time.perf_counter() - start < 30
    assert np.all(np.diff(alphas) > 0) and math.fsum(weights) == pytest.approx(1.0, abs=1e-14)
    assert np.dot(weights, alphas**9) == pytest.approx(1 / 10, rel=1e-10)


@pytest.mark.parametrize("n", [MAX_FIXED_STEPS + 1, 10**7])
def test_step_counts_past_the_cap_are_refused_before_any_allocation(n):
    with pytest.raises(InvalidInputError, match="n_steps='auto'"):
        fixed_rule("gausslegendre", n)


def test_integrated_gradients_refuses_huge_step_counts_at_once():
    from limelight.engine.gradient.integrated_gradients import IntegratedGradientsOptions

    with pytest.raises(InvalidInputError, match="n_steps"):
        IntegratedGradientsOptions(n_steps=10**7)
    with pytest.raises(InvalidInputError, match="max_steps"):
        IntegratedGradientsOptions(n_steps="auto", rule="adaptive_trapezoid", max_steps=10**7)
