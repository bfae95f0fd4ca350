"""FGSM and PGD against Captum's (same seeds, same loss), masks, bounds, and refusals."""

from __future__ import annotations

import pytest
import torch
from captum.robust import FGSM as CaptumFGSM
from captum.robust import PGD as CaptumPGD
from torch import nn

from limelight.errors import InvalidInputError, LimelightError
from limelight.robust import FGSM, PGD


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).eval()


def _cross_entropy(outputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.cross_entropy(outputs, target, reduction="none")


X = torch.randn(5, 6, generator=torch.Generator().manual_seed(1))
Y = torch.tensor([0, 1, 2, 1, 0])


@pytest.mark.parametrize("targeted", [False, True])
def test_fgsm_equals_captum_with_a_mask_and_bounds(targeted: bool) -> None:
    model = _model()
    mask = (torch.rand(5, 6, generator=torch.Generator().manual_seed(2)) > 0.3).float()
    ours = FGSM(model, _cross_entropy, lower_bound=-1.0, upper_bound=1.0).perturb(X, 0.1, Y, targeted=targeted, mask=mask)
    theirs = CaptumFGSM(model, _cross_entropy, lower_bound=-1.0, upper_bound=1.0).perturb(X, 0.1, Y, targeted=targeted, mask=mask)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    assert not torch.equal(ours, X.clamp(-1, 1))


def test_a_boolean_mask_works_like_its_float_copy() -> None:
    model = _model()
    mask = torch.rand(5, 6, generator=torch.Generator().manual_seed(2)) > 0.5
    assert torch.equal(FGSM(model).perturb(X, 0.1, Y, mask=mask), FGSM(model).perturb(X, 0.1, Y, mask=mask.float()))


def test_the_default_loss_is_the_cross_entropy_of_the_logits() -> None:
    model = _model()
    theirs = CaptumFGSM(lambda x: torch.softmax(model(x), -1)).perturb(X, 0.05, Y)  # Captum's default: -log(probability)
    assert torch.allclose(FGSM(model).perturb(X, 0.05, Y), theirs, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("norm", "random_start"), [("Linf", False), ("Linf", True), ("L2", False)])
def test_pgd_equals_captum_with_the_same_seed(norm: str, random_start: bool) -> None:
    model = _model()
    ours = PGD(model, _cross_entropy).perturb(X, 0.3, 0.05, 7, Y, random_start=random_start, norm=norm, seed=11)
    torch.manual_seed(11)
    theirs = CaptumPGD(model, _cross_entropy).perturb(X, 0.3, 0.05, 7, Y, random_start=random_start, norm=norm)
    assert torch.allclose(ours, theirs, atol=1e-6, rtol=0)
    change = (ours - X).reshape(5, -1)
    size = change.abs().amax(1) if norm == "Linf" else change.norm(dim=1)
    assert bool((size <= 0.3 + 1e-6).all())


def test_the_l2_random_start_is_a_seeded_point_of_the_ball() -> None:
    """Captum 0.8's L2 start cannot broadcast its per-example radius (shape (rows,) against (rows, features)), so
    the oracle here is the definition: direction ~ N(0, I) normalised per example, radius ~ r * U^(1/d)."""
    model = _model()
    start = PGD(model).perturb(X, 0.3, 0.05, 0, Y, random_start=True, norm="L2", seed=4)
    generator = torch.Generator().manual_seed(4)
    direction = torch.nn.functional.normalize(torch.randn((5, 6), generator=generator))
    size = torch.rand((5,), generator=generator) ** (1 / 6) * 0.3
    assert torch.allclose(start, X + size[:, None] * direction, atol=1e-6, rtol=0)
    assert torch.equal(start, PGD(model).perturb(X, 0.3, 0.05, 0, Y, random_start=True, norm="L2", seed=4))
    assert bool(((start - X).norm(dim=1) <= 0.3 + 1e-6).all())


def test_pgd_on_a_tuple_of_inputs_with_masks_and_targeted_equals_captum() -> None:
    torch.manual_seed(0)
    first, second = nn.Linear(4, 3), nn.Linear(2, 3)

    def forward(a: torch.Tensor, b: torch.Tensor, scale: float) -> torch.Tensor:
        return scale * (first(a) + second(b))

    a, b = torch.randn(4, 4), torch.randn(4, 2)
    masks = (torch.ones(4, 4), torch.zeros(4, 2))
    wanted = torch.tensor([2, 2, 1, 0])
    ours = PGD(forward, _cross_entropy).perturb((a, b), 0.2, 0.05, 4, wanted, (2.0,), True, True, "Linf", masks, seed=3)
    torch.manual_seed(3)
    theirs = CaptumPGD(forward, _cross_entropy).perturb((a, b), 0.2, 0.05, 4, wanted, (2.0,), True, True, "Linf", masks)
    for mine, captum in zip(ours, theirs):
        assert torch.allclose(mine, captum, atol=1e-6, rtol=0)
    assert torch.equal(ours[1], b)  # masked out: never moves


def test_a_stronger_targeted_attack_reaches_the_target() -> None:
    model = _model()
    moved = PGD(model).perturb(X, 2.0, 0.1, 40, 2, targeted=True)
    assert bool((model(moved).argmax(-1) == 2).all())


@pytest.mark.parametrize(
    "call",
    [
        lambda: FGSM("not a model"),  # type: ignore[arg-type]
        lambda: FGSM(_model(), lower_bound=1.0, upper_bound=0.0),
        lambda: FGSM(_model()).perturb(torch.ones(2, 6, dtype=torch.long), 0.1, 0),
        lambda: FGSM(_model()).perturb(X, -0.1, Y),
        lambda: FGSM(_model()).perturb(X, 0.1, Y, mask=torch.ones(3, 6)),
        lambda: FGSM(_model()).perturb(X, 0.1, [0, 1]),
        lambda: FGSM(_model()).perturb(X, 0.1, Y, mask=(torch.ones(5, 6), torch.ones(5, 6))),
        lambda: FGSM(_model()).perturb(X, 0.1, Y, mask=[1.0]),
        lambda: PGD(_model()).perturb(X, 0.1, 0.01, 3, Y, norm="L1"),
        lambda: PGD(_model()).perturb(X, 0.1, 0.01, -1, Y),
    ],
)
def test_bad_input_is_refused_with_a_limelight_error(call) -> None:
    with pytest.raises(LimelightError):
        call()


def test_refusals_say_what_was_wrong() -> None:
    with pytest.raises(InvalidInputError, match="norm must be one of"):
        PGD(_model()).perturb(X, 0.1, 0.01, 3, Y, norm="L1")
