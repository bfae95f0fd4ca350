import pytest
import torch

from limelight import IntegratedGradients, LayerIntegratedGradients
from limelight.engine.gradient.quadrature import FIXED_RULES
from limelight.errors import ConvergenceWarning, InvalidInputError

from .models import MLP, Linear, TokenModel


@pytest.fixture
def data():
    generator = torch.Generator().manual_seed(1)
    return torch.randn(4, 5, generator=generator), torch.randn(4, 5, generator=generator)


@pytest.mark.parametrize("rule", FIXED_RULES)
def test_linear_model_gives_x_minus_b_times_w_for_every_rule(rule, data):
    x, b = data
    model = Linear()
    result = IntegratedGradients(model).attribute(x, b, target=2, n_steps=8, rule=rule)
    torch.testing.assert_close(result.attributions, (x - b) * model.weight[:, 2].detach(), rtol=1e-6, atol=1e-6)
    assert result.delta.abs().max() < 1e-5
    assert result.n_steps.tolist() == [8] * 4
    assert result.method == "integrated_gradients" and result.settings.rule == rule


def test_quadratic_gives_x_squared_minus_b_squared(data):
    x, b = data
    quadratic = lambda t: (t * t).sum(1)  # noqa: E731
    # The integrand is linear in alpha: two Gauss-Legendre nodes are exact.
    result = IntegratedGradients(quadratic).attribute(x, b, n_steps=2)
    torch.testing.assert_close(result.attributions, x * x - b * b, rtol=1e-5, atol=1e-5)
    auto = IntegratedGradients(quadratic).attribute(x, b, n_steps="auto")
    torch.testing.assert_close(auto.attributions, x * x - b * b, rtol=1e-5, atol=1e-5)


def test_default_baseline_is_zero_and_values_are_reported(data):
    x, _ = data
    model = Linear()
    result = IntegratedGradients(model).attribute(x, target=0)
    torch.testing.assert_close(result.attributions, x * model.weight[:, 0].detach())
    torch.testing.assert_close(result.input_value, model(x)[:, 0].double().detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(result.baseline_value, model.bias[0].double().detach().expand(4), rtol=1e-6, atol=1e-6)


def test_auto_mode_meets_tolerance_per_example_and_reports_steps():
    torch.manual_seed(0)
    x, b = torch.randn(6, 6) * 4, torch.zeros(6, 6)
    result = IntegratedGradients(MLP()).attribute(x, b, target=1, n_steps="auto", tolerance=1e-3)
    change = result.input_value - result.baseline_value
    assert bool(result.converged.all())
    assert torch.all(result.delta.abs() <= 1e-3 * change.abs() + 1e-4)
    assert all(5 <= n <= 257 for n in result.n_steps.tolist())
    assert [len(alphas) for alphas in result.extras.alphas] == result.n_steps.tolist()
    # A tighter tolerance never uses fewer steps; a looser one uses fewer.
    tight = IntegratedGradients(MLP()).attribute(x, b, target=1, n_steps="auto", tolerance=1e-6)
    loose = IntegratedGradients(MLP()).attribute(x, b, target=1, n_steps="auto", tolerance=1e-1)
    assert torch.all(tight.n_steps >= result.n_steps) and torch.all(result.n_steps >= loose.n_steps)
    assert tight.n_steps.sum() > loose.n_steps.sum()


def test_auto_mode_agrees_with_a_fine_fixed_rule():
    torch.manual_seed(0)
    x = torch.randn(3, 6) * 2
    auto = IntegratedGradients(MLP()).attribute(x, target=0, n_steps="auto", tolerance=1e-6)
    fine = IntegratedGradients(MLP()).attribute(x, target=0, n_steps=200)
    # The auto mode stops at the absolute floor of 1e-4 on the delta; per-feature agreement is of that order.
    torch.testing.assert_close(auto.attributions, fine.attributions, rtol=1e-3, atol=1e-4)


def test_auto_mode_spends_its_nodes_where_the_integrand_is_steep():
    # f(x) = tanh(20 (x - 0.3)) summed: along the path from 0 to x = 1 the gradient peaks at alpha = 0.3.
    forward = lambda t: torch.tanh(20 * (t - 0.3)).sum(1)  # noqa: E731
    x = torch.ones(1, 3)
    result = IntegratedGradients(forward).attribute(x, n_steps="auto", tolerance=1e-4)
    alphas = torch.tensor(result.extras.alphas[0])
    density_near_peak = ((alphas - 0.3).abs() <= 0.1).sum() / 0.2
    density_far = (alphas >= 0.6).sum() / 0.4
    assert bool(result.converged.all()) and density_near_peak > 3 * density_far
    torch.testing.assert_close(
        result.attributions.sum().double(), forward(x).double()[0] - forward(torch.zeros(1, 3)).double()[0], atol=1e-3, rtol=1e-4
    )
    # A uniform grid needs far more nodes for the same accuracy.
    uniform = IntegratedGradients(forward).attribute(x, n_steps=len(alphas), rule="riemann_trapezoid", tolerance=None)
    assert uniform.delta.abs().item() > 10 * result.delta.abs().item()


def test_auto_mode_never_exceeds_max_steps():
    forward = lambda t: torch.tanh(50 * (t - 0.3)).sum(1)  # noqa: E731
    with pytest.warns(ConvergenceWarning):
        result = IntegratedGradients(forward).attribute(torch.ones(2, 3), n_steps="auto", tolerance=1e-9, max_steps=12)
    assert result.n_steps.tolist() == [12, 12] and not bool(result.converged.any())


def test_unconverged_examples_warn_and_are_flagged():
    torch.manual_seed(0)
    x = torch.randn(3, 6) * 4
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        result = IntegratedGradients(MLP()).attribute(x, target=0, n_steps="auto", tolerance=1e-9, max_steps=9)
    assert not bool(result.converged.all()) and result.n_steps.max() == 9
    with pytest.warns(ConvergenceWarning, match="n_steps='auto'"):
        IntegratedGradients(MLP()).attribute(x, target=0, n_steps=2, rule="riemann_left", tolerance=1e-9)


def test_tuple_inputs_keep_their_structure_and_completeness():
    torch.manual_seed(0)
    first, second = torch.randn(3, 4), torch.randn(3, 2)
    forward = lambda a, c: torch.tanh(a.sum(1, keepdim=True) * c).sum(1)  # noqa: E731
    result = IntegratedGradients(forward).attribute((first, second), n_steps="auto", tolerance=1e-4)
    assert isinstance(result.attributions, tuple) and [a.shape for a in result.attributions] == [first.shape, second.shape]
    total = result.attributions[0].sum(1) + result.attributions[1].sum(1)
    torch.testing.assert_close(total.double(), forward(first, second).double(), rtol=1e-3, atol=1e-3)


def test_layer_ig_on_token_ids_is_complete_in_embedding_space():
    model = TokenModel()
    ids = torch.tensor([[1, 5, 7, 2], [1, 9, 3, 2]])
    base = torch.tensor([[1, 0, 0, 2]])
    result = LayerIntegratedGradients(model, model.embedding).attribute(ids, base, target=1, n_steps="auto", tolerance=1e-4)
    assert result.attributions.shape == (2, 4, 8)
    expected = model(ids)[:, 1] - model(base.expand(2, -1))[:, 1]
    torch.testing.assert_close(result.attributions.sum((1, 2)).double(), expected.double().detach(), rtol=1e-3, atol=1e-4)
    # Tokens equal to the baseline get exactly zero.
    assert torch.all(result.attributions[:, 0] == 0) and torch.all(result.attributions[:, 3] == 0)


@pytest.mark.parametrize("n_steps, chunk", [(50, None), (50, 7), ("auto", None), ("auto", 3)])
def test_the_delta_uses_the_models_own_values_at_both_ends(n_steps, chunk):
    model = TokenModel().eval()
    ids = torch.tensor([[1, 5, 7, 2, 0], [1, 9, 3, 4, 2]])
    mask, base = (ids != 0).long(), torch.tensor([[1, 0, 0, 2, 0], [1, 0, 0, 0, 2]])
    result = LayerIntegratedGradients(model, model.embedding).attribute(
        ids, base, target=[1, 0], n_steps=n_steps, additional_forward_args=(mask,), internal_batch_size=chunk
    )
    with torch.no_grad():
        fx, fb = model(ids, mask)[[0, 1], [1, 0]].double(), model(base, mask)[[0, 1], [1, 0]].double()
    torch.testing.assert_close(result.input_value, fx, rtol=0, atol=1e-6)
    torch.testing.assert_close(result.baseline_value, fb, rtol=0, atol=1e-6)
    torch.testing.assert_close(result.delta, result.attributions.sum((1, 2)).double() - (fx - fb), rtol=0, atol=1e-6)


def test_layer_ig_at_the_layer_input_matches_ig_on_embeddings():
    model = TokenModel()
    ids = torch.tensor([[1, 5, 7, 2]])
    layer_in = LayerIntegratedGradients(model, model.head, attribute_to_layer_input=True).attribute(ids, target=0, n_steps=16)
    pooled = model.embedding(ids).mean(1).detach()
    direct = IntegratedGradients(model.head).attribute(pooled, target=0, n_steps=16)
    torch.testing.assert_close(layer_in.attributions, direct.attributions)


def test_layer_baselines_are_given_in_layer_space():
    model = TokenModel()
    ids = torch.tensor([[1, 5, 7, 2]])
    zero = LayerIntegratedGradients(model, model.embedding).attribute(ids, target=0, layer_baselines=0.0, n_steps=16)
    default = LayerIntegratedGradients(model, model.embedding).attribute(ids, target=0, n_steps=16)
    torch.testing.assert_close(zero.attributions, default.attributions)
    with pytest.raises(InvalidInputError, match="not both"):
        LayerIntegratedGradients(model, model.embedding).attribute(ids, ids, target=0, layer_baselines=0.0)


def test_token_ids_without_a_layer_get_a_helpful_error():
    with pytest.raises(InvalidInputError, match="embedding layer"):
        IntegratedGradients(TokenModel()).attribute(torch.tensor([[1, 2, 3]]), target=0)


def test_captum_keyword_method_is_the_rule(data):
    x, b = data
    captum = IntegratedGradients(MLP(features=5)).attribute(x, b, target=0, n_steps=6, method="riemann_middle")
    ours = IntegratedGradients(MLP(features=5)).attribute(x, b, target=0, n_steps=6, rule="riemann_middle")
    assert captum.settings == ours.settings and captum.settings.rule == "riemann_middle"
    torch.testing.assert_close(captum.attributions, ours.attributions, rtol=0, atol=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_steps": 0}, "n_steps"),
        ({"n_steps": "many"}, "n_steps"),
        ({"rule": "simpson"}, "simpson"),
        ({"method": "simpson"}, "simpson"),
        ({"n_steps": "auto", "rule": "gausslegendre"}, "leave rule unset"),
        ({"rule": "riemann_left", "method": "riemann_right"}, "not both"),
        ({"n_steps": "auto", "tolerance": None}, "needs a tolerance"),
        ({"tolerance": -1}, "tolerance"),
        ({"n_steps": "auto", "min_steps": 9, "max_steps": 5}, "max_steps"),
        ({"internal_batch_size": 0}, "internal_batch_size"),
        ({"memory_budget": "lots"}, "memory_budget"),
    ],
)
def test_bad_options_raise_clear_errors(kwargs, message, data):
    x, b = data
    with pytest.raises(InvalidInputError, match=message):
        IntegratedGradients(Linear()).attribute(x, b, target=0, **kwargs)


def test_bad_baselines_raise_clear_errors(data):
    x, _ = data
    with pytest.raises(InvalidInputError, match="does not broadcast"):
        IntegratedGradients(Linear()).attribute(x, torch.zeros(2, 5), target=0)
    with pytest.raises(InvalidInputError, match="one per input"):
        IntegratedGradients(Linear()).attribute(x, (torch.zeros(5), torch.zeros(5)), target=0)
