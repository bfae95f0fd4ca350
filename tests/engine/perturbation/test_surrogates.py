"""KernelSHAP and LIME: exact where the theory says so, convergent, and with an honest fit report."""

import pytest
import torch

from limelight import KernelShap, Lime, ShapleyValues
from limelight.engine.perturbation.kernel_shap import kernel_coalitions
from limelight.errors import InvalidInputError

from ..models import MLP, Linear
from .games import PAIRWISE_SHAPLEY, nonlinear, pairwise

X = torch.randn(3, 5)
B = torch.randn(1, 5)


def test_kernel_shap_with_every_coalition_is_exact_shapley():
    exact = ShapleyValues(nonlinear).attribute(torch.ones(1, 6))
    kernel = KernelShap(nonlinear).attribute(torch.ones(1, 6), n_samples=62)
    torch.testing.assert_close(kernel.extras.feature_scores, exact.extras.feature_scores, rtol=0, atol=1e-6)
    assert kernel.delta.abs().max() < 1e-9


@pytest.mark.parametrize("paired", [True, False])
def test_kernel_shap_converges_to_exact_shapley(paired):
    model = MLP(features=8).eval()
    x, mask = torch.randn(1, 8), torch.tensor([[0, 1, 2, 3, 4, 5, 6, 7]])
    exact = ShapleyValues(model).attribute(x, target=0, feature_mask=mask).attributions

    def error(n: int) -> float:  # below 2^8 - 2 = 254 coalitions are sampled; mean over seeds
        runs = [KernelShap(model).attribute(x, target=0, feature_mask=mask, n_samples=n, paired=paired, seed=s) for s in range(4)]
        return sum((run.attributions - exact).abs().max().item() for run in runs) / len(runs)

    few, many = error(12), error(240)
    assert many < 0.4 * few
    assert many < 0.1 * exact.abs().max()


@pytest.mark.parametrize("paired", [True, False])
def test_kernel_shap_draws_coalitions_from_the_shapley_kernel(paired):
    n_features, draws = 20, 60_000  # far below 2^20 - 2: sampled, not enumerated
    coalitions, weights, *_ = kernel_coalitions(n_features, draws, paired, torch.Generator().manual_seed(0))
    sizes = torch.arange(1, n_features)
    kernel = 1 / (sizes * (n_features - sizes)).double()
    frequency = torch.bincount(coalitions.sum(1), minlength=n_features)[1:n_features].double() / draws
    torch.testing.assert_close(frequency, kernel / kernel.sum(), rtol=0, atol=0.01)
    singles = coalitions[coalitions.sum(1) == 1].double().mean(0)  # within a size, subsets are uniform
    torch.testing.assert_close(singles, torch.full((n_features,), 1 / n_features, dtype=torch.float64), rtol=0, atol=0.02)
    assert coalitions.shape == (draws, n_features) and (weights == 1).all()


def test_paired_kernel_shap_is_exact_for_second_order_games():
    generator = torch.Generator().manual_seed(0)
    linear, quadratic = torch.randn(10, generator=generator), torch.randn(10, 10, generator=generator)
    game = lambda z: z @ linear + ((z @ quadratic) * z).sum(1)  # noqa: E731
    exact = ShapleyValues(game).attribute(torch.ones(1, 10)).attributions
    paired = KernelShap(game).attribute(torch.ones(1, 10), n_samples=30, seed=0).attributions
    unpaired = KernelShap(game).attribute(torch.ones(1, 10), n_samples=30, paired=False, seed=0).attributions
    torch.testing.assert_close(paired, exact, rtol=0, atol=1e-5)
    assert (unpaired - exact).abs().max() > 0.1


def test_kernel_shap_enforces_efficiency_even_with_few_samples():
    result = KernelShap(nonlinear).attribute(torch.ones(2, 6), n_samples=5, seed=0)
    assert result.delta.abs().max() < 1e-9


def test_kernel_shap_reports_a_perfect_fit_for_a_linear_model():
    model = Linear().eval()
    result = KernelShap(model).attribute(X, B, target=2, n_samples=40, seed=0)
    torch.testing.assert_close(result.attributions, (X - B) * model.weight[:, 2].detach())
    torch.testing.assert_close(result.extras.fit.r2, torch.ones(3, dtype=torch.float64))
    assert result.seed == 0


def test_kernel_shap_fit_is_worse_for_interactions():
    result = KernelShap(pairwise).attribute(torch.ones(1, 5), n_samples=30, seed=0)
    torch.testing.assert_close(result.extras.feature_scores[0], PAIRWISE_SHAPLEY)
    assert result.extras.fit.r2[0] < 0.99


def test_kernel_shap_with_a_single_feature_gives_it_the_whole_change():
    result = KernelShap(nonlinear).attribute(torch.ones(1, 6), feature_mask=torch.zeros(1, 6, dtype=torch.long), seed=0)
    torch.testing.assert_close(result.extras.feature_scores[0, 0], (result.input_value - result.baseline_value)[0])


@pytest.mark.parametrize("distance", ["cosine", "euclidean"])
def test_lime_recovers_the_weights_of_a_linear_model(distance):
    model = Linear().eval()
    result = Lime(model).attribute(X, B, target=1, n_samples=60, alpha=0.0, distance=distance, seed=0)
    torch.testing.assert_close(result.attributions, (X - B) * model.weight[:, 1].detach())
    torch.testing.assert_close(result.extras.fit.intercept, model(B.expand(3, -1))[:, 1].detach().double(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(result.extras.fit.r2, torch.ones(3, dtype=torch.float64))
    assert result.delta is None


def test_lime_ridge_penalty_shrinks_the_coefficients():
    model = Linear().eval()
    exact = Lime(model).attribute(X, B, target=1, n_samples=60, alpha=0.0, seed=0).extras.feature_scores
    shrunk = Lime(model).attribute(X, B, target=1, n_samples=60, alpha=5.0, seed=0).extras.feature_scores
    assert (shrunk.norm(dim=1) < exact.norm(dim=1)).all()  # the ridge solution's norm falls as alpha grows


def test_lime_weights_coalitions_near_the_input_more():
    game = lambda z: (z.sum(1) >= 5).double()  # noqa: E731  (a step only a narrow kernel around the input sees)
    narrow = Lime(game).attribute(torch.ones(1, 6), n_samples=400, kernel_width=0.1, alpha=0.0, seed=0).extras.feature_scores
    wide = Lime(game).attribute(torch.ones(1, 6), n_samples=400, kernel_width=100.0, alpha=0.0, seed=0).extras.feature_scores
    assert (narrow > wide).all()


def test_sampled_surrogates_are_reproducible():
    model = MLP(features=5).eval()
    for method in (KernelShap(model), Lime(model)):  # 20 < 2^5 - 2: KernelShap samples too
        first = method.attribute(X, target=0, n_samples=20, seed=4)
        again = method.attribute(X, target=0, n_samples=20, seed=4)
        assert torch.equal(first.attributions, again.attributions)
        assert not torch.equal(first.attributions, method.attribute(X, target=0, n_samples=20, seed=5).attributions)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"distance": "manhattan"}, "distance"),
        ({"kernel_width": 0}, "kernel_width"),
        ({"alpha": -1.0}, "alpha"),
        ({"n_samples": 1}, "n_samples"),
    ],
)
def test_lime_rejects_bad_options(options, message):
    with pytest.raises(InvalidInputError, match=message):
        Lime(pairwise).attribute(torch.ones(1, 5), **options)


def test_kernel_shap_rejects_bad_sample_counts():
    with pytest.raises(InvalidInputError, match="n_samples"):
        KernelShap(pairwise).attribute(torch.ones(1, 5), n_samples=0)
