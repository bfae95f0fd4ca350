import pytest
import torch

from limelight import GradientShap, InputXGradient, IntegratedGradients, LayerIntegratedGradients, NoiseTunnel, Saliency
from limelight.errors import InvalidInputError

from .models import MLP, Linear, TokenModel

torch.manual_seed(0)
X = torch.randn(4, 5)


def test_saliency_of_a_linear_model_is_abs_w():
    model = Linear().eval()
    result = Saliency(model).attribute(X, target=1)
    torch.testing.assert_close(result.attributions, model.weight[:, 1].detach().abs().expand(4, -1))
    signed = Saliency(model).attribute(X, target=1, abs=False)
    torch.testing.assert_close(signed.attributions, model.weight[:, 1].detach().expand(4, -1))
    assert result.delta is None and result.method == "saliency"


def test_input_x_gradient_of_a_linear_model_is_x_w():
    model = Linear().eval()
    torch.testing.assert_close(InputXGradient(model).attribute(X, target=2).attributions, X * model.weight[:, 2].detach())


def test_input_x_gradient_at_a_layer_multiplies_the_activation():
    model = TokenModel().eval()
    ids = torch.tensor([[1, 4, 2]])
    embedded = model.embedding(ids).detach()
    grad = Saliency(lambda e: model.head(e.mean(1)), check_forward=True).attribute(embedded, target=0, abs=False)
    at_layer = InputXGradient(model, model.embedding).attribute(ids, target=0)
    torch.testing.assert_close(at_layer.attributions, embedded * grad.attributions)


def test_gradient_shap_with_one_baseline_on_a_linear_model_is_exact():
    model = Linear().eval()
    baseline = torch.randn(1, 5)
    result = GradientShap(model).attribute(X, baseline, target=0, n_samples=3, seed=0)
    torch.testing.assert_close(result.attributions, (X - baseline) * model.weight[:, 0].detach())
    assert result.delta.abs().max() < 1e-5


def test_gradient_shap_expectation_over_baselines_on_a_linear_model():
    model = Linear().eval()
    baselines = torch.randn(4, 5)
    result = GradientShap(model).attribute(X, baselines, target=0, n_samples=4000, stdevs=0.05, seed=1)
    expected = (X - baselines.mean(0)) * model.weight[:, 0].detach()
    torch.testing.assert_close(result.attributions, expected, rtol=0, atol=0.08)


def test_gradient_shap_is_reproducible_with_a_seed():
    model = MLP().eval()
    baselines = torch.randn(6, 6)
    x = torch.randn(2, 6)
    first = GradientShap(model).attribute(x, baselines, target=1, n_samples=5, stdevs=0.3, seed=7)
    second = GradientShap(model).attribute(x, baselines, target=1, n_samples=5, stdevs=0.3, seed=7)
    other = GradientShap(model).attribute(x, baselines, target=1, n_samples=5, stdevs=0.3, seed=8)
    assert torch.equal(first.attributions, second.attributions)
    assert not torch.equal(first.attributions, other.attributions)


def test_gradient_shap_rejects_a_baseline_distribution_of_the_wrong_shape():
    with pytest.raises(InvalidInputError, match="distribution"):
        GradientShap(Linear()).attribute(X, torch.zeros(3, 4), target=0)


@pytest.mark.parametrize(
    "method, options",
    [
        (lambda m: Saliency(m), {}),
        (lambda m: InputXGradient(m), {}),
        (lambda m: IntegratedGradients(m), {"n_steps": 6}),
    ],
)
def test_smoothgrad_with_zero_noise_equals_the_base_method(method, options):
    model = MLP(features=5).eval()
    plain = method(model).attribute(X, target=0, **options)
    smooth = NoiseTunnel(method(model)).attribute(X, target=0, nt_samples=3, stdevs=0.0, **options)
    torch.testing.assert_close(smooth.attributions, plain.attributions)
    squared = NoiseTunnel(method(model)).attribute(X, target=0, nt_type="smoothgrad_sq", nt_samples=3, stdevs=0.0, **options)
    torch.testing.assert_close(squared.attributions, plain.attributions**2)
    var = NoiseTunnel(method(model)).attribute(X, target=0, nt_type="vargrad", nt_samples=3, stdevs=0.0, **options)
    assert torch.all(var.attributions.abs() < 1e-10)


def test_smoothgrad_in_embedding_space_for_token_ids():
    model = TokenModel().eval()
    ids = torch.tensor([[1, 4, 7, 2], [1, 5, 2, 2]])
    base = torch.tensor([[1, 0, 0, 2]])
    plain = LayerIntegratedGradients(model, model.embedding).attribute(ids, base, target=1, n_steps=8)
    zero = NoiseTunnel(LayerIntegratedGradients(model, model.embedding)).attribute(ids, base, target=1, nt_samples=2, stdevs=0.0, n_steps=8)
    torch.testing.assert_close(zero.attributions, plain.attributions)
    torch.testing.assert_close(zero.delta, plain.delta)
    noisy = NoiseTunnel(LayerIntegratedGradients(model, model.embedding)).attribute(
        ids, base, target=1, nt_samples=8, stdevs=0.1, seed=0, n_steps="auto"
    )
    assert noisy.attributions.shape == plain.attributions.shape and noisy.method == "noise_tunnel"
    assert (noisy.settings.nt_type, noisy.settings.method, noisy.settings.seed) == ("smoothgrad", "layer_integrated_gradients", 0)
    assert not torch.allclose(noisy.attributions, plain.attributions)
    # SmoothGrad of IG stays complete on average: sum = mean f(noisy x) - f(b) + mean delta.
    total = noisy.attributions.sum((1, 2)).double()
    torch.testing.assert_close(total, noisy.input_value - noisy.baseline_value + noisy.delta, rtol=1e-4, atol=1e-5)
    assert noisy.extras.sample_delta.shape == (2, 8)


def test_noise_tunnel_rejects_unknown_options_and_types():
    with pytest.raises(InvalidInputError, match="n_steps"):
        NoiseTunnel(Saliency(Linear())).attribute(X, target=0, n_steps=5)
    with pytest.raises(InvalidInputError, match="nt_type"):
        NoiseTunnel(Saliency(Linear())).attribute(X, target=0, nt_type="smooth")
    with pytest.raises(InvalidInputError, match="gradient method"):
        NoiseTunnel(Linear())
