"""KernelSHAP regression-adjusted by a cubic single-index surrogate: the closed form, exactness, and accuracy per evaluation."""

from statistics import mean

import pytest
import torch

from limelight import KernelShap, ShapleyValues
from limelight.engine.perturbation.adjustment import cubic_index_shapley, rows_needed
from limelight.engine.perturbation.shapley import coalition_bits, shapley_matrix

INDEX = torch.tensor([0.9, -1.4, 2.1, 0.3, -0.7, 1.2, -0.2, 0.6], dtype=torch.float64)
X = torch.ones(1, 8)


def squashed(z: torch.Tensor) -> torch.Tensor:
    """Word effects that add up and are squashed, as a classifier's logit: interactions of every order."""
    return 3 * torch.tanh(z @ INDEX.to(z.dtype) / 2)


def quadratic(z: torch.Tensor) -> torch.Tensor:
    """A game of degree two with an interaction between every pair of features."""
    pairs = torch.arange(64, dtype=z.dtype).reshape(8, 8).sin().triu(1)
    return z @ INDEX.to(z.dtype) + ((z @ pairs) * z).sum(1)


def relative_error(estimate: torch.Tensor, exact: torch.Tensor) -> float:
    return float((estimate - exact).abs().sum() / exact.abs().sum())


def test_the_closed_form_matches_enumeration():
    coefficients = torch.tensor([0.3, -1.1, 0.7, 0.45], dtype=torch.float64)
    z = coalition_bits(torch.arange(2**8), 8).double()
    values = sum(c * (z @ INDEX) ** k for k, c in enumerate(coefficients))
    torch.testing.assert_close(cubic_index_shapley(INDEX, coefficients), values @ shapley_matrix(8))


@pytest.mark.parametrize("sampling", ["kernel", "stratified"])
def test_paired_kernel_shap_is_exact_for_a_game_of_degree_two(sampling):
    exact = ShapleyValues(quadratic).attribute(X).extras.feature_scores[0]
    estimate = KernelShap(quadratic).attribute(X, n_evaluations=24, sampling=sampling, seed=3).extras.feature_scores[0]
    torch.testing.assert_close(estimate, exact, rtol=1e-5, atol=1e-5)  # float32 forwards


def test_the_adjustment_beats_plain_stratified_sampling_at_five_rows_per_feature():
    exact = ShapleyValues(squashed).attribute(X).extras.feature_scores[0]

    def error(adjusted: bool) -> float:
        return mean(
            relative_error(
                KernelShap(squashed)
                .attribute(X, n_evaluations=40, sampling="stratified", regression_adjusted=adjusted, seed=s)
                .extras.feature_scores[0],
                exact,
            )
            for s in range(8)
        )

    assert error(True) < 0.7 * error(False)


def test_below_the_rows_it_needs_and_with_every_coalition_nothing_changes():
    plain, adjusted = (
        KernelShap(squashed).attribute(X, n_evaluations=budget, sampling="stratified", regression_adjusted=flag, seed=1)
        for budget in (rows_needed(8) + 1,)
        for flag in (False, True)
    )
    torch.testing.assert_close(adjusted.extras.feature_scores, plain.extras.feature_scores)
    exact = ShapleyValues(squashed).attribute(X).extras.feature_scores
    full = KernelShap(squashed).attribute(X, n_evaluations=256, sampling="stratified", regression_adjusted=True)
    torch.testing.assert_close(full.extras.feature_scores, exact)


def test_efficiency_holds_exactly_and_the_setting_is_recorded():
    result = KernelShap(squashed).attribute(X, n_evaluations=60, sampling="stratified", regression_adjusted=True, seed=0)
    assert abs(float(result.delta[0])) < 1e-9
    assert result.settings.regression_adjusted is True
    assert bool(result.extras.standard_errors.isfinite().all())
