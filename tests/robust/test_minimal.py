"""MinimalPerturbation and minimal_word_deletion find minimal flips: one step less does not flip."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from limelight.errors import LimelightError
from limelight.robust import FGSM, AttackComparator, MinimalPerturbation


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3)).eval()


X = torch.randn(12, 4, generator=torch.Generator().manual_seed(5))


def _flips(model: nn.Module, attack: FGSM, x: torch.Tensor, y: torch.Tensor, epsilon: float) -> torch.Tensor:
    return model(attack.perturb(x, epsilon, y)).argmax(-1) != y


@pytest.mark.parametrize("mode", ["linear", "binary"])
def test_the_step_found_flips_and_one_step_less_does_not(mode: str) -> None:
    model = _model()
    y = model(X).argmax(-1)
    attack = FGSM(model)
    result = MinimalPerturbation(model, attack, "epsilon", 0.0, 3.0, 0.05, mode=mode).evaluate(X, y)
    assert any(result.flipped) and result.evaluations > 0
    for row, (value, step) in enumerate(zip(result.values, result.steps)):
        if value is None:
            continue
        x, target = X[row : row + 1], y[row : row + 1]
        assert bool(_flips(model, attack, x, target, value))
        if step:
            assert not bool(_flips(model, attack, x, target, result.settings["grid"][step - 1]))
        assert result.predicted[row] != result.original[row] == int(y[row])
        assert torch.allclose(result.perturbed[row], attack.perturb(x, value, target)[0])


def test_linear_and_binary_search_agree_with_the_analytic_answer_when_flipping_is_monotone() -> None:
    w = torch.tensor([1.0, -2.0, 0.5, 1.0])
    weights = torch.stack([w, -w])

    def forward(x: torch.Tensor) -> torch.Tensor:
        return x @ weights.T  # class 0 while x.w > 0

    x = torch.randn(20, 4, generator=torch.Generator().manual_seed(3))
    y = forward(x).argmax(-1)
    unit = w / w.norm()

    def push(inputs: tuple[torch.Tensor, ...], value: float) -> torch.Tensor:
        sign = torch.where(inputs[0] @ w > 0, -1.0, 1.0)[:, None]
        return inputs[0] + sign * value * unit  # crosses the boundary x.w = 0 at value = |x.w| / |w|

    step = 0.01
    linear = MinimalPerturbation(forward, push, "distance", 0.0, 5.0, step).evaluate(x, y)
    binary = MinimalPerturbation(forward, push, "distance", 0.0, 5.0, step, mode="binary").evaluate(x, y)
    assert linear.steps == binary.steps
    assert binary.evaluations < linear.evaluations
    distance = ((x @ w).abs() / w.norm()).tolist()
    for found, exact in zip(linear.values, distance):
        assert found is not None and exact < found + 1e-9 and found - step <= exact + 1e-9


def test_the_comparator_reports_accuracy_and_sizes() -> None:
    model = _model()
    y = model(X).argmax(-1)
    summary = (
        AttackComparator(model)
        .add("fgsm", FGSM(model), epsilon=0.5)
        .add("noise", lambda x: x + 0.01 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0)), attempts=3)
        .evaluate(X, y)
    )
    rows = {row.name: row for row in summary.rows}
    assert rows["original"].accuracy == 1.0 and rows["original"].mean_l2 == 0.0
    assert rows["fgsm"].mean_linf == pytest.approx(0.5)
    assert rows["fgsm"].accuracy == pytest.approx(1 - rows["fgsm"].flip_rate)
    flipped = float((model(FGSM(model).perturb(X, 0.5, y)).argmax(-1) != y).double().mean())
    assert rows["fgsm"].flip_rate == pytest.approx(flipped)
    assert "fgsm" in str(summary) and summary.to_dict()["rows"][0]["name"] == "original"


@pytest.mark.parametrize(
    "call",
    [
        lambda: MinimalPerturbation(_model(), FGSM(_model()), "epsilon", 1.0, 0.0, 0.1),
        lambda: MinimalPerturbation(_model(), FGSM(_model()), "epsilon", 0.0, 1.0, 0.0),
        lambda: MinimalPerturbation(_model(), FGSM(_model()), "epsilon", 0.0, 1.0, 0.1, mode="golden"),
        lambda: MinimalPerturbation(_model(), 3, "epsilon", 0.0, 1.0, 0.1),
        lambda: AttackComparator(_model()).evaluate(X, 0),
        lambda: AttackComparator(_model()).add("original", FGSM(_model())),
    ],
)
def test_bad_settings_are_refused(call) -> None:
    with pytest.raises(LimelightError):
        call()
