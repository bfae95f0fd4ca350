"""Exact and sampled Shapley values against closed forms, the definition and the Shapley axioms."""

import pytest
import torch

from limelight import ShapleyValues, ShapleyValueSampling
from limelight.errors import InvalidInputError

from ..models import MLP
from .games import PAIRWISE_SHAPLEY, nonlinear, pairwise, shapley_by_permutations

ONES = torch.ones(1, 5)


def test_additive_game_gives_each_feature_its_own_term():
    weights = torch.tensor([1.5, -2.0, 0.25, 3.0])
    x = torch.tensor([[1.0, 2.0, -1.0, 0.5], [0.0, 1.0, 2.0, -3.0]])
    baseline = torch.tensor([0.5, 0.0, 1.0, -1.0])
    result = ShapleyValues(lambda v: v @ weights + 7).attribute(x, baseline)
    torch.testing.assert_close(result.attributions, (x - baseline) * weights)


def test_product_splits_evenly():
    for n in (2, 3):
        result = ShapleyValues(lambda z, n=n: z[:, :n].prod(1)).attribute(torch.ones(1, 4))
        expected = torch.tensor([[1 / n] * n + [0.0] * (4 - n)])
        torch.testing.assert_close(result.attributions, expected)


def test_known_pairwise_interactions_and_the_dummy_axiom():
    result = ShapleyValues(pairwise).attribute(ONES)
    torch.testing.assert_close(result.extras.feature_scores[0], PAIRWISE_SHAPLEY)
    assert abs(float(result.attributions[0, 4])) < 1e-12  # a dummy feature: zero up to rounding of f(S + i) - f(S)


def test_symmetric_features_get_equal_values():
    game = lambda z: torch.tanh(z[:, 0] + z[:, 1] + 0.3 * z[:, 2]) * (1 + z[:, 0] * z[:, 1])  # noqa: E731
    result = ShapleyValues(game).attribute(torch.ones(1, 3))
    assert result.attributions[0, 0] == pytest.approx(result.attributions[0, 1].item(), abs=1e-7)
    assert result.attributions[0, 0] != pytest.approx(result.attributions[0, 2].item(), abs=1e-3)


def test_exact_values_match_the_permutation_definition_and_are_efficient():
    result = ShapleyValues(nonlinear).attribute(torch.ones(1, 6))
    torch.testing.assert_close(result.extras.feature_scores[0], shapley_by_permutations(nonlinear, 6), rtol=0, atol=1e-6)
    assert result.delta.abs().max() < 1e-12
    torch.testing.assert_close(result.input_value, nonlinear(torch.ones(1, 6)).double())
    torch.testing.assert_close(result.baseline_value, nonlinear(torch.zeros(1, 6)).double())


def test_exact_values_evaluate_every_coalition_once():
    assert ShapleyValues(pairwise).attribute(torch.ones(3, 5)).extras.evaluations == 3 * 2**5


def test_too_many_features_names_the_alternatives():
    with pytest.raises(InvalidInputError, match="ShapleyValueSampling"):
        ShapleyValues(lambda x: x.sum(1)).attribute(torch.ones(1, 13))
    assert ShapleyValues(lambda x: x.sum(1)).attribute(torch.ones(1, 13), max_features=13).delta.abs().max() < 1e-9


def test_sampled_values_are_efficient_for_any_number_of_permutations():
    model = MLP().eval()
    x = torch.randn(3, 6)
    for n_samples, antithetic in ((1, False), (3, True), (10, True)):
        result = ShapleyValueSampling(model).attribute(x, target=1, n_samples=n_samples, antithetic=antithetic, seed=2)
        assert result.delta.abs().max() < 1e-5


def test_antithetic_permutations_are_exact_for_pairwise_games():
    result = ShapleyValueSampling(pairwise).attribute(ONES, n_samples=2, seed=0)
    torch.testing.assert_close(result.extras.feature_scores[0], PAIRWISE_SHAPLEY)


def test_sampled_values_converge_to_exact_ones():
    exact = ShapleyValues(nonlinear).attribute(torch.ones(1, 6)).attributions
    errors = [
        (ShapleyValueSampling(nonlinear).attribute(torch.ones(1, 6), n_samples=n, seed=5).attributions - exact).abs().max().item()
        for n in (4, 400)
    ]
    assert errors[1] < 0.03 < errors[0]


def test_sampled_values_reproduce_with_a_seed_and_report_it():
    model = MLP().eval()
    x = torch.randn(2, 6)
    first = ShapleyValueSampling(model).attribute(x, target=0, n_samples=6, seed=11)
    again = ShapleyValueSampling(model).attribute(x, target=0, n_samples=6, seed=11)
    other = ShapleyValueSampling(model).attribute(x, target=0, n_samples=6, seed=12)
    assert torch.equal(first.attributions, again.attributions)
    assert not torch.equal(first.attributions, other.attributions)
    torch.manual_seed(3)
    drawn = ShapleyValueSampling(model).attribute(x, target=0, n_samples=6)
    replay = ShapleyValueSampling(model).attribute(x, target=0, n_samples=6, seed=drawn.seed)
    assert torch.equal(drawn.attributions, replay.attributions)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_sample_counts_are_rejected(bad):
    with pytest.raises(InvalidInputError, match="n_samples"):
        ShapleyValueSampling(pairwise).attribute(ONES, n_samples=bad)


def test_bad_seed_is_rejected():
    with pytest.raises(InvalidInputError, match="seed"):
        ShapleyValueSampling(pairwise).attribute(ONES, seed="7")
