"""Results must not depend on how rows are chunked, and a batch must equal per-example runs."""

import pytest
import torch

from limelight import GradientShap, InputXGradient, IntegratedGradients, LayerIntegratedGradients, NoiseTunnel, Saliency

from .models import MLP, TokenModel

torch.manual_seed(0)
X = torch.randn(5, 6) * 3
B = torch.randn(5, 6) * 0.1
IDS = torch.tensor([[1, 4, 7, 9, 2], [1, 3, 3, 2, 0], [1, 8, 2, 0, 0]])
MASK = (IDS != 0).long()
BASE = torch.tensor([[1, 0, 0, 0, 2]])


def _close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("n_steps", [7, "auto"])
@pytest.mark.parametrize("chunk", [1, 3, 8, 1000])
def test_ig_does_not_depend_on_internal_batch_size(n_steps, chunk):
    model = MLP().eval()
    reference = IntegratedGradients(model).attribute(X, B, target=2, n_steps=n_steps, internal_batch_size=10_000)
    chunked = IntegratedGradients(model).attribute(X, B, target=2, n_steps=n_steps, internal_batch_size=chunk)
    _close(chunked.attributions, reference.attributions)
    _close(chunked.delta, reference.delta)
    assert torch.equal(chunked.n_steps, reference.n_steps)


@pytest.mark.parametrize("budget", [20_000, "1MB", "2GiB"])
def test_memory_budget_gives_the_same_result(budget):
    model = MLP().eval()
    reference = IntegratedGradients(model).attribute(X, B, target=1, n_steps=9, internal_batch_size=10_000)
    budgeted = IntegratedGradients(model).attribute(X, B, target=1, n_steps=9, memory_budget=budget)
    _close(budgeted.attributions, reference.attributions)


@pytest.mark.parametrize("n_steps", [12, "auto"])
def test_batch_equals_per_example_runs(n_steps):
    model = TokenModel().eval()
    method = LayerIntegratedGradients(model, model.embedding)
    batch = method.attribute(IDS, BASE, target=1, n_steps=n_steps, additional_forward_args=(MASK,), internal_batch_size=4)
    for i in range(IDS.shape[0]):
        alone = method.attribute(IDS[i : i + 1], BASE, target=1, n_steps=n_steps, additional_forward_args=(MASK[i : i + 1],))
        _close(batch.attributions[i : i + 1], alone.attributions)
        _close(batch.delta[i : i + 1], alone.delta)
        assert batch.n_steps[i] == alone.n_steps[0]


@pytest.mark.parametrize(
    "make, kwargs",
    [
        (lambda m: Saliency(m), {}),
        (lambda m: InputXGradient(m), {}),
        (lambda m: GradientShap(m), {"baselines": B, "n_samples": 7, "stdevs": 0.1, "seed": 3}),
        (lambda m: NoiseTunnel(Saliency(m)), {"nt_samples": 4, "stdevs": 0.2, "seed": 3}),
    ],
)
def test_other_methods_do_not_depend_on_chunking(make, kwargs):
    model = MLP().eval()
    reference = make(model).attribute(X, target=0, internal_batch_size=10_000, **kwargs)
    chunked = make(model).attribute(X, target=0, internal_batch_size=2, **kwargs)
    _close(chunked.attributions, reference.attributions)


@pytest.mark.parametrize("n_steps", [12, "auto"])
def test_gradients_added_in_blocks_give_the_same_bits(n_steps, monkeypatch):
    import limelight.engine.accumulate as accumulate

    model = TokenModel().eval()
    method = LayerIntegratedGradients(model, model.embedding)

    def run():
        return method.attribute(IDS, BASE, target=1, n_steps=n_steps, additional_forward_args=(MASK,), internal_batch_size=9)

    whole = run()
    monkeypatch.setattr(accumulate, "BLOCK_BYTES", 1)  # one row per block
    rows = run()
    assert torch.equal(rows.attributions, whole.attributions) and torch.equal(rows.delta, whole.delta)
