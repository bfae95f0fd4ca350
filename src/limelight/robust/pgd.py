"""Projected gradient descent (Madry et al., 2018): repeated FGSM steps kept within a ball around the input.

Each of ``step_num`` steps is an :class:`~.fgsm.FGSM` step of size ``step_size``, then the total
change is projected back onto the ball of ``radius`` around the original input: clamped element by
element (``norm="Linf"``) or rescaled per example when its L2 norm exceeds the radius (``"L2"``;
the norm is over all of one example's elements of one input tensor). As in Captum, the step is the
gradient's sign under both norms; the norm decides the ball. ``random_start`` begins at a uniform
random point of the ball (drawn from ``seed``: the same seed gives Captum's start after
``torch.manual_seed(seed)``; ``seed=None`` draws one, recorded in :attr:`PGD.last_seed`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..engine.forward import OutputSpec
from ..engine.validation import check_choice, check_count, check_positive, resolve_seed
from .core import Inputs, LossFn, as_masks, as_tuple, like_inputs
from .fgsm import FGSM

NORMS: tuple[str, ...] = ("Linf", "L2")


class PGD:
    """``PGD(forward, loss_func=None, lower_bound=-inf, upper_bound=inf)``; :meth:`perturb` attacks a batch (module docstring)."""

    def __init__(
        self,
        forward: Callable[..., Any],
        loss_func: LossFn | None = None,
        lower_bound: float = float("-inf"),
        upper_bound: float = float("inf"),
        *,
        output: OutputSpec = "logits",
    ) -> None:
        self.fgsm = FGSM(forward, loss_func, lower_bound, upper_bound, output=output)
        self.last_seed: int | None = None
        """The seed of the last random start (``None`` until one was drawn)."""

    def perturb(
        self,
        inputs: Inputs,
        radius: float,
        step_size: float,
        step_num: int,
        target: Any,
        additional_forward_args: Any = None,
        targeted: bool = False,
        random_start: bool = False,
        norm: str = "Linf",
        mask: Inputs | None = None,
        seed: int | None = None,
    ) -> Inputs:
        """The inputs after ``step_num`` projected steps (module docstring); same form as ``inputs``."""
        radius = check_positive("radius", radius, allow_zero=True)
        step_size = check_positive("step_size", step_size, allow_zero=True)
        check_count("step_num", step_num, minimum=0)
        check_choice("norm", norm, NORMS)
        origin = as_tuple(inputs)
        masks = as_masks(mask, origin)
        current = origin
        if random_start:
            self.last_seed = resolve_seed(seed)
            generator = torch.Generator(device=origin[0].device).manual_seed(self.last_seed)
            current = tuple(self.fgsm.bound(_random_point(x, radius, norm, m, generator)) for x, m in zip(origin, masks))
        for _ in range(step_num):
            current = self.fgsm.step(current, step_size, target, additional_forward_args, bool(targeted), masks)
            current = tuple(self.fgsm.bound(_project(x0, x, radius, norm)).detach() for x0, x in zip(origin, current))
        return like_inputs(inputs, current)


def _project(origin: Tensor, moved: Tensor, radius: float, norm: str) -> Tensor:
    """``moved`` brought back within ``radius`` of ``origin`` in ``norm``."""
    change = moved - origin
    if norm == "Linf":
        return origin + torch.clamp(change, -radius, radius)
    return origin + torch.renorm(change, 2, 0, radius)


def _random_point(center: Tensor, radius: float, norm: str, mask: Tensor | float, generator: torch.Generator) -> Tensor:
    """A uniform random point of the ball of ``radius`` around each example of ``center`` (masked elements stay)."""
    dtype, device = center.dtype, center.device
    if norm == "Linf":
        return center + (torch.rand(center.shape, generator=generator, dtype=dtype, device=device) * radius * 2 - radius) * mask
    direction = torch.randn(center.shape, generator=generator, dtype=dtype, device=device)
    unit = F.normalize(direction.reshape(center.shape[0], -1)).reshape(center.shape)
    size = torch.rand((center.shape[0],), generator=generator, dtype=dtype, device=device) ** (1.0 / center[0].numel()) * radius
    return center + size.reshape((-1,) + (1,) * (center.dim() - 1)) * unit * mask
