"""A row that alone exceeds ``memory_budget`` is evaluated in chunks of one row, with a warning that says so."""

import warnings

import pytest
import torch

from limelight import FeatureAblation, IntegratedGradients
from limelight.engine.chunking import rows_for_budget
from limelight.errors import MemoryBudgetWarning

from .models import MLP
from .test_forward_calls import Counting

X = torch.randn(2, 6, generator=torch.Generator().manual_seed(0))


def test_the_warning_gives_the_row_cost_and_the_budget():
    with pytest.warns(MemoryBudgetWarning, match=r"6\.0 MiB \(2 x the 3\.0 MiB .*memory_budget=4\.0 MiB: chunks of 1 row"):
        assert rows_for_budget(3 * 2**20, 4 * 2**20) == 1


def test_a_row_within_the_budget_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error", MemoryBudgetWarning)
        assert rows_for_budget(3 * 2**20, 6 * 2**20) == 1
        assert rows_for_budget(3 * 2**20, 13 * 2**20) == 2


def test_a_tiny_budget_warns_and_runs_one_row_per_chunk_with_the_same_result():
    model = Counting(MLP().eval())
    reference = IntegratedGradients(MLP().eval()).attribute(X, target=0, n_steps=5, rule="riemann_trapezoid")
    with pytest.warns(MemoryBudgetWarning, match="chunks of 1 row"):
        tiny = IntegratedGradients(model, check_forward=False).attribute(X, target=0, n_steps=5, rule="riemann_trapezoid", memory_budget=16)
    assert model.rows == [1, 2] + [1] * 10  # the memory probe (one and two rows), then the 10 path rows one by one
    torch.testing.assert_close(tiny.attributions, reference.attributions, rtol=1e-6, atol=1e-7)  # float32 model


def test_perturbation_methods_warn_too():
    reference = FeatureAblation(MLP().eval()).attribute(X, target=1)
    with pytest.warns(MemoryBudgetWarning, match="chunks of 1 row"):
        tiny = FeatureAblation(MLP().eval()).attribute(X, target=1, memory_budget=16)
    torch.testing.assert_close(tiny.attributions, reference.attributions, rtol=0, atol=1e-6)
