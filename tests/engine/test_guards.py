"""The forward's contract: one output row per input row, computed from that row alone."""

import pytest
import torch
from torch import nn

from limelight import IntegratedGradients, LayerIntegratedGradients, Saliency
from limelight.errors import BatchDependenceError, ForwardError, NonFiniteError, OutputShapeError, TargetError, TrainingModeWarning

from .models import MLP, TokenModel

X = torch.randn(3, 6)


def test_the_indexing_forward_from_the_captum_tutorial_raises():
    model = MLP().eval()
    forward = lambda x: torch.softmax(model(x), 1)[0][0].unsqueeze(-1)  # noqa: E731
    with pytest.raises(BatchDependenceError, match=r"`\[0\]`"):
        IntegratedGradients(forward).attribute(X)
    with pytest.raises(BatchDependenceError):
        IntegratedGradients(forward).attribute(X[:1])


def test_a_batch_mean_is_detected():
    model = MLP().eval()
    with pytest.raises(BatchDependenceError, match="not independent"):
        IntegratedGradients(lambda x: model(x) - model(x).mean(0)).attribute(X, target=0)


def test_max_over_the_batch_is_detected():
    model = MLP().eval()
    with pytest.raises(BatchDependenceError):
        IntegratedGradients(lambda x: model(x) / model(x).abs().max(0).values).attribute(X, target=0)


HIDDEN_BATCHNORM = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _hidden(x):  # reaches the module through a global: limelight cannot find it to switch modes
    return HIDDEN_BATCHNORM(x)


def test_batch_norm_in_training_mode_behind_a_global_is_detected():
    HIDDEN_BATCHNORM.train()
    with pytest.raises(BatchDependenceError):
        IntegratedGradients(_hidden).attribute(X, target=0)


def test_dropout_behind_a_global_is_detected_as_randomness():
    torch.manual_seed(0)
    noisy = nn.Sequential(nn.Linear(6, 64), nn.Dropout(0.5), nn.Linear(64, 2)).train()
    globals()["NOISY"] = noisy
    with pytest.raises(BatchDependenceError, match="random"):
        IntegratedGradients(lambda x: NOISY(x)).attribute(X, target=0)  # noqa: F821


def test_a_model_in_training_mode_is_attributed_in_eval_mode_and_restored():
    model = nn.Sequential(nn.Linear(6, 64), nn.Dropout(0.5), nn.Linear(64, 2)).train()
    with pytest.warns(TrainingModeWarning, match="eval mode"):
        first = IntegratedGradients(model).attribute(X, target=0, n_steps=8)
    assert model.training and all(m.training for m in model.modules())
    with pytest.warns(TrainingModeWarning):
        second = IntegratedGradients(lambda x: model(x)).attribute(X, target=0, n_steps=8)
    torch.testing.assert_close(first.attributions, second.attributions)
    assert first.delta.abs().max() < 1e-5


def test_eval_mode_can_be_turned_off():
    model = nn.Sequential(nn.Linear(6, 64), nn.Dropout(0.5), nn.Linear(64, 2)).train()
    with pytest.raises(BatchDependenceError, match="random"):
        IntegratedGradients(model, eval_mode=False).attribute(X, target=0)


def test_output_with_the_wrong_number_of_rows():
    with pytest.raises(OutputShapeError, match="first dimension is 1 for a batch of 2 rows"):
        Saliency(lambda x: x.sum().reshape(1), check_forward=True).attribute(X)
    with pytest.raises(OutputShapeError, match="0-d"):
        Saliency(lambda x: x.sum(), check_forward=False).attribute(X)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_outputs_and_gradients_are_named(bad):
    def forward(x):
        out = x.sum(1, keepdim=True)
        return torch.where(x[:, :1] > 0.5, out * bad, out)

    x = torch.tensor([[0.1] * 6, [0.9] * 6])
    with pytest.raises(NonFiniteError, match="example 1"):
        IntegratedGradients(forward, check_forward=False).attribute(x, n_steps=4)
    with pytest.raises(NonFiniteError, match="gradient"):
        Saliency(lambda t: (t.sqrt()).sum(1), check_forward=False).attribute(torch.tensor([[0.0, 1.0]]))


@pytest.mark.parametrize(
    "row, kind",
    [([1.0, float("inf"), -float("inf")], "infinite"), ([float("inf"), float("nan"), 1.0], "NaN"), ([-float("inf"), 0, 0], "infinite")],
)
def test_a_non_finite_row_is_named_with_its_kind(row, kind):
    gradients = torch.tensor([[0.0, 1.0, 2.0], row])

    class Injected(torch.autograd.Function):
        """A finite output whose gradient is the given table (one row per example)."""

        @staticmethod
        def forward(ctx, x):
            return x.sum(1)

        @staticmethod
        def backward(ctx, grad):
            return gradients * grad[:, None]

    with pytest.raises(NonFiniteError, match=f"gradient for input 0 is {kind} at .*example 1"):
        Saliency(Injected.apply, check_forward=False).attribute(torch.ones(2, 3), internal_batch_size=2)


def test_hooks_are_removed_after_success_and_after_an_error():
    model = TokenModel().eval()
    ids = torch.tensor([[1, 4, 2]])
    LayerIntegratedGradients(model, model.embedding).attribute(ids, target=0, n_steps=4)
    assert not model.embedding._forward_hooks and not model.embedding._forward_pre_hooks
    with pytest.raises(TargetError):
        LayerIntegratedGradients(model, model.embedding).attribute(ids, target=7, n_steps=4)
    assert not model.embedding._forward_hooks and not model.embedding._forward_pre_hooks
    with pytest.raises(ForwardError):
        LayerIntegratedGradients(lambda i: model(i).sum(), model.embedding).attribute(ids, target=0)
    assert not model.embedding._forward_hooks


def test_a_layer_outside_the_model_is_reported():
    model = TokenModel().eval()
    stranger = nn.Linear(3, 3)
    with pytest.raises(Exception, match="never ran"):
        LayerIntegratedGradients(model, stranger).attribute(torch.tensor([[1, 4, 2]]), target=0)
    assert not stranger._forward_hooks
