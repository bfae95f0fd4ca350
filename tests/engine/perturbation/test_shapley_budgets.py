"""Sampled Shapley estimators under an evaluation budget: accuracy, the budget itself, seeds, standard errors."""

from statistics import mean

import pytest
import torch

from limelight import KernelShap, ShapleyValues, ShapleyValueSampling
from limelight.engine.perturbation.budget import example_generator
from limelight.engine.perturbation.kernel_shap import budget_coalitions
from limelight.errors import InvalidInputError

from .games import nonlinear

WEIGHTS = torch.tensor([0.9, -1.4, 2.1, 0.3, -0.7, 1.2, -0.2, 0.6], dtype=torch.float64)


def eight(z: torch.Tensor) -> torch.Tensor:
    """An 8-feature game with interactions of several orders (no closed form: ShapleyValues is the oracle)."""
    w = WEIGHTS[: z.shape[1]].to(z.dtype)
    return torch.tanh(z @ w) + z[:, 0] * z[:, 3] * z[:, 5] - 0.8 * z[:, 1] * z[:, 2] + 0.5 * torch.sin(2 * z @ w.flip(0))


class Counted:
    """A game that counts the rows it is asked for."""

    def __init__(self, game):
        self.game, self.rows = game, 0

    def __call__(self, z):
        self.rows += z.shape[0]
        return self.game(z)


ESTIMATORS = [
    (ShapleyValueSampling, {}),
    (ShapleyValueSampling, {"antithetic": False}),
    (KernelShap, {}),
    (KernelShap, {"sampling": "stratified"}),
    (KernelShap, {"sampling": "leverage"}),
    (KernelShap, {"paired": False, "sampling": "stratified"}),
    (KernelShap, {"sampling": "stratified", "regression_adjusted": True}),
]
IDS = ["permutations-antithetic", "permutations", "kernel", "stratified", "leverage", "stratified-unpaired", "stratified-adjusted"]
X = torch.ones(1, 8)
EXACT = ShapleyValues(eight).attribute(X).extras.feature_scores[0]


def relative_error(estimate: torch.Tensor) -> float:
    return float((estimate - EXACT).abs().sum() / EXACT.abs().sum())


@pytest.mark.parametrize(("method", "options"), ESTIMATORS, ids=IDS)
@pytest.mark.parametrize("budget", [4, 9, 23, 101, 300])
def test_the_budget_is_never_exceeded(method, options, budget):
    game = Counted(eight)
    if method is ShapleyValueSampling and budget < 9:  # one permutation of 8 features takes 9 rows
        with pytest.raises(InvalidInputError, match="too small"):
            method(game, check_forward=False).attribute(X, n_evaluations=budget, **options)
        return
    result = method(game, check_forward=False).attribute(X, n_evaluations=budget, seed=1, internal_batch_size=512, **options)
    assert game.rows == result.extras.evaluations <= budget
    assert abs(float(result.delta[0])) < 1e-9


@pytest.mark.parametrize(("method", "options"), ESTIMATORS, ids=IDS)
def test_estimates_converge_to_the_exact_values(method, options):
    errors = [
        mean(relative_error(method(eight).attribute(X, n_evaluations=b, seed=s, **options).extras.feature_scores[0]) for s in range(4))
        for b in (24, 250)
    ]
    assert errors[1] < 0.6 * errors[0]
    assert errors[1] < 0.25


def test_a_budget_of_every_coalition_is_exact_with_zero_standard_errors():
    result = KernelShap(eight).attribute(X, n_evaluations=256, sampling="stratified", seed=0)
    torch.testing.assert_close(result.extras.feature_scores[0], EXACT)
    assert bool((result.extras.standard_errors == 0).all())


def test_stratified_sampling_beats_kernel_sampling_at_a_small_budget():
    def error(sampling: str) -> float:
        return mean(
            relative_error(KernelShap(eight).attribute(X, n_evaluations=40, sampling=sampling, seed=s).extras.feature_scores[0])
            for s in range(12)
        )

    assert error("stratified") < error("kernel")


@pytest.mark.parametrize("sampling", ["kernel", "stratified", "leverage"])
def test_paired_draws_come_with_their_complements(sampling):
    coalitions, weights, units, _ = budget_coalitions(8, 60, True, sampling, example_generator(3, 0))
    rows = {tuple(z.tolist()) for z in coalitions}
    assert rows == {tuple((~z).tolist()) for z in coalitions}
    assert len(rows) == 60  # the budget is spent on distinct coalitions
    complement = {tuple(z.tolist()): w for z, w in zip(coalitions, weights.tolist())}
    assert all(complement[tuple((~z).tolist())] == pytest.approx(w) for z, w in zip(coalitions, weights.tolist()))
    assert bool((units[0::2] == units[1::2]).all())  # a draw and its complement are one unit


@pytest.mark.parametrize(("method", "options"), ESTIMATORS, ids=IDS)
def test_seeds_reproduce_and_differ(method, options):
    first, again, other = (method(eight).attribute(X, n_evaluations=40, seed=s, **options).extras.feature_scores for s in (5, 5, 6))
    torch.testing.assert_close(first, again)
    assert not torch.equal(first, other)


@pytest.mark.parametrize(("method", "options"), ESTIMATORS, ids=IDS)
def test_standard_errors_shrink_with_the_budget_and_track_the_error(method, options):
    def run(budget: int, seed: int):
        extras = method(eight).attribute(X, n_evaluations=budget, seed=seed, **options).extras
        return extras.standard_errors[0], extras.feature_scores[0]

    small = [run(40, s) for s in range(4)]
    large = [run(200, s) for s in range(4)]
    assert mean(float(e.mean()) for e, _ in large) < mean(float(e.mean()) for e, _ in small)
    rmse = mean(float(((s - EXACT) ** 2).mean()) for _, s in small) ** 0.5
    typical = mean(float((e**2).mean()) for e, _ in small) ** 0.5
    assert rmse / 4 < typical < rmse * 4


@pytest.mark.parametrize(("method", "options"), ESTIMATORS, ids=IDS)
def test_an_example_does_not_depend_on_the_rest_of_the_batch(method, options):
    inputs = torch.tensor([[1.0, 1, 1, 1, 1, 1], [1, 0, 1, 0, 1, 1], [0, 1, 1, 1, 0, 1]])
    mask = torch.tensor([[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5], [0, 0, 1, 1, 2, -1]])
    estimator = method(nonlinear)
    together = estimator.attribute(inputs, feature_mask=mask, n_evaluations=30, seed=2, **options)
    for swapped in ([0, 2], [0, 1]):
        alone = estimator.attribute(inputs[swapped], feature_mask=mask[swapped], n_evaluations=30, seed=2, **options)
        torch.testing.assert_close(alone.extras.feature_scores[0], together.extras.feature_scores[0])
        torch.testing.assert_close(alone.extras.standard_errors[0], together.extras.standard_errors[0], equal_nan=True)
    assert together.extras.evaluations <= 3 * 30


def test_n_samples_results_and_defaults_are_unchanged():
    result = ShapleyValueSampling(eight).attribute(X, seed=0)
    assert result.settings.n_samples == 32 and result.settings.n_evaluations is None
    assert result.extras.evaluations <= 32 * 7 + 2
    assert result.extras.standard_errors.shape == (1, 8)


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        (ShapleyValueSampling, {"n_samples": 4, "n_evaluations": 40}, "not both"),
        (KernelShap, {"n_samples": 4, "n_evaluations": 40}, "not both"),
        (ShapleyValueSampling, {"n_evaluations": 8}, "too small"),
        (KernelShap, {"n_evaluations": 1}, "n_evaluations must be"),
        (KernelShap, {"n_evaluations": 2}, "too small"),
        (KernelShap, {"n_evaluations": 3}, "too small"),
        (KernelShap, {"sampling": "optimal"}, "sampling must be one of"),
    ],
)
def test_bad_budgets_are_refused(method, options, message):
    with pytest.raises(InvalidInputError, match=message):
        method(eight).attribute(X, **options)
