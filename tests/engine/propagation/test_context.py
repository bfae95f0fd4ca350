"""The one propagation context: everything it registers is gone after success and after an error."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn
from torch.overrides import _get_current_function_mode_stack

from limelight.engine.propagation import LRP, DeepLift, Propagation
from limelight.engine.propagation.functions import NonlinearFunctions
from limelight.engine.propagation.reference import PairedRows
from tests.vision.cnns import TinyCNN

from .nets import MLP


def untouched(model: nn.Module) -> None:
    assert not _get_current_function_mode_stack()
    for module in model.modules():
        assert not module._forward_hooks and not module._forward_pre_hooks
    assert all(p.requires_grad for p in model.parameters())
    x = torch.randn(2, 3, requires_grad=True)
    torch.relu(x).sum().backward()
    assert torch.equal(x.grad, (x > 0).to(x.dtype))  # ordinary gradients again


def test_everything_is_removed_after_an_error_inside_the_forward() -> None:
    model = TinyCNN().double()
    reference = PairedRows()
    with pytest.raises(RuntimeError), Propagation(model, NonlinearFunctions(reference), reference).active():
        model(torch.randn(2, 4, 8, 8, dtype=torch.float64))  # wrong channel count
    untouched(model)


@pytest.mark.parametrize("method", [DeepLift, LRP])
def test_everything_is_removed_after_a_method_fails_or_succeeds(method) -> None:
    model = MLP().double()
    with pytest.raises(Exception):  # noqa: B017, PT011  (the forward's own shape error)
        method(model, check_forward=False).attribute(torch.randn(3, 5, dtype=torch.float64), target=0)
    untouched(model)
    method(model).attribute(torch.randn(3, 6, dtype=torch.float64), target=0)
    untouched(model)


def test_the_batch_must_stay_first_for_deeplift() -> None:
    class SequenceFirst(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x: Tensor) -> Tensor:  # (batch, time, 4) -> (time, batch, 4) -> tanh
            return self.fc(torch.tanh(x.transpose(0, 1))).sum(0)

    with pytest.raises(Exception, match="first \\(batch\\) dimension.*'<root>' \\(SequenceFirst\\)"):
        DeepLift(SequenceFirst().double(), check_forward=False).attribute(torch.randn(2, 3, 4, dtype=torch.float64), target=0)
