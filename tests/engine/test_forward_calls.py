"""No wasted work: endpoint values come from the path when the rule has them, layer captures stop early."""

import torch

from limelight import IntegratedGradients, LayerIntegratedGradients

from .models import MLP, TokenModel


class Counting(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.rows = []

    def forward(self, *args, **kwargs):
        self.rows.append(args[0].shape[0])
        return self.inner(*args, **kwargs)


def test_trapezoid_reads_both_endpoint_values_off_the_path():
    model = Counting(MLP().eval())
    IntegratedGradients(model, check_forward=False).attribute(
        torch.randn(3, 6), target=0, n_steps=10, rule="riemann_trapezoid", internal_batch_size=100
    )
    assert model.rows == [30]


def test_gauss_legendre_adds_one_no_grad_pass_for_the_endpoints():
    model = Counting(MLP().eval())
    IntegratedGradients(model, check_forward=False).attribute(torch.randn(3, 6), target=0, n_steps=10, internal_batch_size=100)
    assert model.rows == [30, 6]


def test_auto_mode_gets_endpoints_and_their_gradients_from_its_first_level():
    model = Counting(MLP().eval())
    result = IntegratedGradients(model, check_forward=False).attribute(
        torch.randn(3, 6), target=0, n_steps="auto", tolerance=0.5, internal_batch_size=100
    )
    assert model.rows == [15] and result.n_steps.tolist() == [5, 5, 5]


def test_the_forward_probe_costs_three_small_forwards():
    model = Counting(MLP().eval())
    IntegratedGradients(model).attribute(torch.randn(3, 6), target=0, n_steps=10, rule="riemann_trapezoid", internal_batch_size=100)
    assert model.rows == [2, 2, 4, 30]


def test_layer_capture_stops_the_forward_at_the_layer():
    model = TokenModel().eval()
    head_calls = []
    model.head.register_forward_hook(lambda module, args, output: head_calls.append(output.shape[0]))
    ids, base = torch.tensor([[1, 4, 7, 2]]), torch.tensor([[1, 0, 0, 2]])
    LayerIntegratedGradients(model, model.embedding, check_forward=False).attribute(
        ids, base, target=0, n_steps=8, rule="riemann_trapezoid", internal_batch_size=100
    )
    # Inputs and baselines are embedded without running the head; the head runs once, on the 8 path rows.
    assert head_calls == [8]


def test_the_memory_budget_is_measured_on_a_one_and_a_two_row_probe():
    # two rows at most: the probe holds no more than a one-row chunk is allowed under the budget
    model = Counting(MLP().eval())
    IntegratedGradients(model, check_forward=False).attribute(torch.randn(3, 6), target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [1, 2, 30]
