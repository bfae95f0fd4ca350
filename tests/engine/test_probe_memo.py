"""A method instance probes its forward once per input signature; later calls skip the probe and the memory measurement."""

import pytest
import torch

from limelight import FeatureAblation, IntegratedGradients, LayerIntegratedGradients
from limelight.engine.memo import ProbeMemo

from .models import MLP, TokenModel
from .test_forward_calls import Counting


def test_a_second_call_runs_no_probe_forwards():
    model = Counting(MLP().eval())
    method = IntegratedGradients(model)
    first = method.attribute(torch.randn(3, 6), target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [2, 2, 4, 2, 3, 30]
    model.rows.clear()
    method.attribute(torch.randn(2, 6), target=0, n_steps=10, rule="riemann_trapezoid")
    assert model.rows == [20]
    assert first.attributions.shape == (3, 6)


def test_the_remembered_verdict_gives_the_same_numbers_as_a_fresh_method():
    model = TokenModel().eval()
    ids, base = torch.tensor([[1, 4, 7, 2]]), torch.tensor([[1, 0, 0, 2]])
    method = LayerIntegratedGradients(model, model.embedding)
    method.attribute(torch.tensor([[1, 5, 2]]), torch.tensor([[1, 0, 2]]), target=1)
    again = method.attribute(ids, base, target=1)
    fresh = LayerIntegratedGradients(model, model.embedding).attribute(ids, base, target=1)
    assert torch.equal(again.attributions, fresh.attributions) and torch.equal(again.delta, fresh.delta)


def test_a_longer_input_rescales_the_measured_row_and_a_much_longer_one_is_measured_again():
    memo, measured = ProbeMemo(), []

    def measure(value):
        return lambda: measured.append(value) or value

    assert memo.bytes_per_row("k", 10, measure(1000)) == 1000
    assert memo.bytes_per_row("k", 5, measure(0)) == 500  # shorter: linear, an overestimate
    assert memo.bytes_per_row("k", 20, measure(0)) == 4000  # up to twice as long: quadratic, an overestimate
    assert memo.bytes_per_row("k", 21, measure(2500)) == 2500  # longer still: measured
    assert measured == [1000, 2500]


def test_a_failed_probe_is_not_remembered_as_passed():
    memo, calls = ProbeMemo(), []

    def broken():
        calls.append(1)
        raise RuntimeError("broken")

    for _ in range(2):
        try:
            memo.check_once("k", broken)
        except RuntimeError:
            pass
    assert len(calls) == 2


@pytest.mark.filterwarnings("ignore::limelight.errors.ConvergenceWarning")
def test_without_eval_mode_a_mode_change_probes_again():
    model = Counting(MLP().eval())
    method = IntegratedGradients(model, eval_mode=False)
    x = torch.randn(2, 6)
    method.attribute(x, target=0, n_steps=4, rule="riemann_trapezoid", internal_batch_size=100)
    model.rows.clear()
    model.train()
    method.attribute(x, target=0, n_steps=4, rule="riemann_trapezoid", internal_batch_size=100)
    assert model.rows == [2, 2, 4, 8]


def test_perturbation_methods_probe_once_too():
    model = Counting(MLP().eval())
    method = FeatureAblation(model)
    method.attribute(torch.randn(2, 6), target=0)
    model.rows.clear()
    method.attribute(torch.randn(2, 6), target=0)
    assert model.rows == [14]


def test_perturbation_chunks_are_capped_on_cpu_without_changing_results():
    from limelight.engine.chunking import CPU_FORWARD_ROWS

    model = Counting(MLP(features=50).double().eval())
    method = FeatureAblation(model)
    x = torch.randn(2, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    capped = method.attribute(x, target=0)
    model.rows.clear()
    method.attribute(x, target=0)
    assert model.rows == [CPU_FORWARD_ROWS] * 3 + [102 - 3 * CPU_FORWARD_ROWS]
    whole = method.attribute(x, target=0, internal_batch_size=1000)
    torch.testing.assert_close(capped.attributions, whole.attributions, rtol=1e-12, atol=1e-14)  # rounding of other batch sizes only
