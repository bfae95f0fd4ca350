"""The one explained scalar of a classifier: target, contrast and quantity, for explaining and for metrics."""

from __future__ import annotations

import pytest
import torch

from limelight.engine import Contrast
from limelight.engine.objective import QUANTITIES, Objective, output_transform
from limelight.errors import InvalidInputError

LOGITS = torch.tensor([[1.0, 2.0, -1.0], [0.0, 0.5, 3.0]])


def test_value_is_the_targets_quantity_minus_the_contrasts():
    assert Objective(1).value(LOGITS).tolist() == [2.0, 0.5]
    assert Objective(1, contrast=2).value(LOGITS).tolist() == [3.0, -2.5]
    probability = Objective(2, "probability").value(LOGITS)
    torch.testing.assert_close(probability, torch.softmax(LOGITS.double(), -1)[:, 2])
    assert probability.dtype == torch.float64


@pytest.mark.parametrize("quantity", QUANTITIES)
def test_the_engine_output_and_the_metric_value_agree(quantity):
    """The explainer's output transform picks the same number a metric's objective measures."""
    explained = output_transform(quantity)({"logits": LOGITS.double()})[:, 0]
    torch.testing.assert_close(explained, Objective(0, quantity).value(LOGITS))


def test_engine_target_is_class_indices_or_a_contrast():
    assert Objective.engine_target([Objective(0), Objective(2)]) == [0, 2]
    assert Objective.engine_target([Objective(0, contrast=1), Objective(2, contrast=1)]) == Contrast([0, 2], 1)
    with pytest.raises(InvalidInputError, match="mixes"):
        Objective.engine_target([Objective(0, contrast=1), Objective(2)])


def test_an_unknown_quantity_is_an_error():
    with pytest.raises(InvalidInputError, match="quantity"):
        Objective(0, "odds")
