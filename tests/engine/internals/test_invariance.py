"""Every layer and neuron method: a batch equals per-example runs, chunking changes nothing, rows are probed.

FeaturePermutation is the one method whose rows legitimately depend on each other
(``rows_depend_on_batch``): it is checked for what it promises instead.
"""

from __future__ import annotations

import pytest
import torch

import limelight as ll
from limelight.errors import BatchDependenceError, InvalidInputError

from .models import inputs, mlp

MODEL = mlp()
X, B = inputs(3)
L1, L2 = MODEL[1], MODEL[2]

METHODS = {
    "layer_conductance": lambda x, b, **k: ll.LayerConductance(MODEL, L2).attribute(x, b, target=1, n_steps=5, tolerance=None, **k),
    "internal_influence": lambda x, b, **k: ll.InternalInfluence(MODEL, L1).attribute(x, b, target=1, n_steps=5, **k),
    "layer_gradient_x_activation": lambda x, b, **k: ll.LayerGradientXActivation(MODEL, [L1, L2]).attribute(x, target=0, **k),
    "layer_activation": lambda x, b, **k: ll.LayerActivation(MODEL, [L1, L2]).attribute(x, **k),
    "layer_gradient_shap": lambda x, b, **k: ll.LayerGradientShap(MODEL, L1).attribute(x, B[:1], target=2, n_samples=3, seed=1, **k),
    "layer_feature_ablation": lambda x, b, **k: ll.LayerFeatureAblation(MODEL, L1).attribute(x, target=2, **k),
    "layer_integrated_gradients": lambda x, b, **k: ll.LayerIntegratedGradients(MODEL, [L1]).attribute(x, b, target=2, n_steps=5, **k),
    "neuron_gradient": lambda x, b, **k: ll.NeuronGradient(MODEL, L2).attribute(x, (slice(0, 3),), **k),
    "neuron_integrated_gradients": lambda x, b, **k: ll.NeuronIntegratedGradients(MODEL, L2).attribute(x, 1, b, n_steps=5, **k),
    "neuron_conductance": lambda x, b, **k: ll.NeuronConductance(MODEL, L2).attribute(x, 1, b, target=0, n_steps=5, **k),
    "neuron_gradient_shap": lambda x, b, **k: ll.NeuronGradientShap(MODEL, L1).attribute(x, 2, B[:1], n_samples=3, seed=1, **k),
    "neuron_feature_ablation": lambda x, b, **k: ll.NeuronFeatureAblation(MODEL, L2).attribute(x, 4, b, **k),
}

SAMPLED_FOR_THE_BATCH = {"layer_gradient_shap", "neuron_gradient_shap"}
"""GradientSHAP draws the whole batch's samples from one stream (as GradientShap): a batch is chunk-free, not per-example."""


def _close(a, b):
    for p, q in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_batch_equals_per_example_runs_and_does_not_depend_on_chunks(name):
    run = METHODS[name]
    batch = run(X, B)
    assert batch.method == name
    chunked = run(X, B, internal_batch_size=1)
    _close(chunked.attributions, batch.attributions)
    if name in SAMPLED_FOR_THE_BATCH:
        return
    for i in range(X.shape[0]):
        alone = run(X[i : i + 1], B[i : i + 1])
        _close(
            tuple(a[i : i + 1] for a in batch.attributions) if isinstance(batch.attributions, tuple) else batch.attributions[i : i + 1],
            alone.attributions,
        )
        for field in ("delta", "input_value", "baseline_value"):
            if getattr(batch, field) is not None:
                torch.testing.assert_close(getattr(batch, field)[i : i + 1], getattr(alone, field))


class MixesRows(torch.nn.Module):
    """Subtracts the batch mean: rows depend on each other."""

    def __init__(self) -> None:
        super().__init__()
        self.net = mlp()

    def forward(self, x):
        return self.net(x - x.mean(0, keepdim=True))


@pytest.mark.parametrize(
    "make",
    [
        lambda m: ll.LayerConductance(m, m.net[1]).attribute(X, target=0, n_steps=3),
        lambda m: ll.NeuronIntegratedGradients(m, m.net[3]).attribute(X, 0, n_steps=3),
        lambda m: ll.LayerFeatureAblation(m, m.net[1]).attribute(X, target=0),
        lambda m: ll.FeaturePermutation(m).attribute(X, target=0, seed=0),
    ],
)
def test_a_forward_that_mixes_rows_is_caught_by_the_probe(make):
    with pytest.raises(BatchDependenceError):
        make(MixesRows().eval())


def test_feature_permutation_matches_captum_on_two_examples_where_the_permutation_is_forced():
    captum_attr = pytest.importorskip("captum.attr")
    mask = torch.tensor([[0, 0, 1, 1, 2, 2]])
    theirs = captum_attr.FeaturePermutation(MODEL).attribute(X[:2], target=1, feature_mask=mask)
    ours = ll.FeaturePermutation(MODEL).attribute(X[:2], target=1, feature_mask=mask, seed=0)
    torch.testing.assert_close(ours.attributions, theirs, rtol=1e-5, atol=1e-6)
    assert ours.method == "feature_permutation" and ll.FeaturePermutation.rows_depend_on_batch


def test_feature_permutation_scores_are_drops_under_a_shuffle_replayed_by_seed_and_chunk_free():
    x = torch.randn(6, 6, generator=torch.Generator().manual_seed(3))
    first = ll.FeaturePermutation(MODEL).attribute(x, target=0)
    again = ll.FeaturePermutation(MODEL).attribute(x, target=0, seed=first.seed, internal_batch_size=2)
    torch.testing.assert_close(again.attributions, first.attributions, rtol=0, atol=1e-6)
    # every score is f(x) minus f(x with that one feature taken from another example of the batch)
    f = MODEL(x)[:, 0].detach()
    for j in range(6):
        drops = (
            f.unsqueeze(1)
            - torch.stack(
                [
                    MODEL(torch.cat([x[i : i + 1, :j], x[k : k + 1, j : j + 1], x[i : i + 1, j + 1 :]], 1))[0, 0]
                    for i in range(6)
                    for k in range(6)
                ]
            )
            .reshape(6, 6)
            .detach()
        )
        for i in range(6):
            assert (drops[i] - first.attributions[i, j]).abs().min() < 1e-5


def test_feature_permutation_refuses_a_batch_of_one_and_a_perturber():
    with pytest.raises(InvalidInputError, match="at least two examples"):
        ll.FeaturePermutation(MODEL).attribute(X[:1], target=0)
    with pytest.raises(InvalidInputError, match="no perturber"):
        ll.FeaturePermutation(MODEL).attribute(X, target=0, perturber=object())


class TwoInputs(torch.nn.Module):
    """Two input tensors of different shapes joined before a tanh layer."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(3)
        self.a, self.b, self.act, self.head = torch.nn.Linear(6, 5), torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)

    def forward(self, x, z):
        return self.head(self.act(self.a(x) + self.b(z)))


def test_tuples_of_inputs_give_one_attribution_per_input_and_match_captum():
    captum_attr = pytest.importorskip("captum.attr")
    model = TwoInputs().eval()
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(9))
    pair = (X, z)
    theirs = captum_attr.NeuronConductance(model, model.act).attribute(pair, 2, target=1, n_steps=5, method="gausslegendre")
    ours = ll.NeuronConductance(model, model.act).attribute(pair, 2, target=1, n_steps=5)
    for a, b in zip(ours.attributions, theirs):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    conductance = ll.LayerConductance(model, model.act).attribute(pair, target=1, n_steps=5, tolerance=None)
    torch.testing.assert_close(
        conductance.attributions, captum_attr.LayerConductance(model, model.act).attribute(pair, target=1, n_steps=5)
    )
    single = ll.NeuronIntegratedGradients(model, model.act).attribute((X,), 0, additional_forward_args=(z,), n_steps=4)
    assert isinstance(single.attributions, tuple) and len(single.attributions) == 1
