"""The fast gradient sign method (Goodfellow et al., 2015): one signed gradient step of size ``epsilon``.

Untargeted: ``x' = x + epsilon * sign(grad_x L(x, y))`` (away from the true label ``y``);
targeted: ``x' = x - epsilon * sign(grad_x L(x, t))`` (towards the wanted label ``t``). Only the
elements a ``mask`` allows move, and only where ``|grad| > zero_threshold`` (a gradient that is
numerically zero gives no direction); the result is clamped to ``[lower_bound, upper_bound]``.
The argument names are Captum's (``perturb(inputs, epsilon, target, additional_forward_args,
targeted, mask)``), and with the same loss the result is Captum's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import OutputSpec
from ..engine.validation import check_positive, is_number
from ..errors import InvalidInputError
from .core import Inputs, LossFn, as_masks, as_tuple, like_inputs, loss_gradients


class FGSM:
    """``FGSM(forward, loss_func=None, lower_bound=-inf, upper_bound=inf)``; :meth:`perturb` attacks a batch.

    ``forward(*inputs, *additional_forward_args)`` returns logits (or a Hugging Face output, read
    through ``output``); ``loss_func(outputs, target)`` defaults to the cross-entropy of the
    target class of the logits (Captum's default, ``-log(outputs[target])``, assumes probabilities).
    """

    zero_threshold: float = 1e-6
    """Elements whose gradient is at most this in absolute value do not move."""

    def __init__(
        self,
        forward: Callable[..., Any],
        loss_func: LossFn | None = None,
        lower_bound: float = float("-inf"),
        upper_bound: float = float("inf"),
        *,
        output: OutputSpec = "logits",
    ) -> None:
        if not callable(forward):
            raise InvalidInputError(f"forward must be callable (a model or a function), got {type(forward).__name__}")
        if loss_func is not None and not callable(loss_func):
            raise InvalidInputError(f"loss_func must be callable(outputs, target) or None, got {type(loss_func).__name__}")
        if not (is_number(lower_bound) and is_number(upper_bound)) or lower_bound > upper_bound:
            raise InvalidInputError(
                f"lower_bound and upper_bound must be numbers with lower <= upper, got {lower_bound!r}, {upper_bound!r}"
            )
        self.forward, self.loss_func, self.output = forward, loss_func, output
        self.lower_bound, self.upper_bound = float(lower_bound), float(upper_bound)

    def bound(self, value: Tensor) -> Tensor:
        """``value`` clamped to the input range."""
        return torch.clamp(value, min=self.lower_bound, max=self.upper_bound)

    def perturb(
        self,
        inputs: Inputs,
        epsilon: float,
        target: Any,
        additional_forward_args: Any = None,
        targeted: bool = False,
        mask: Inputs | None = None,
    ) -> Inputs:
        """The inputs after one signed step of size ``epsilon`` (module docstring); same form as ``inputs``."""
        check_positive("epsilon", epsilon, allow_zero=True)
        values = as_tuple(inputs)
        moved = self.step(values, float(epsilon), target, additional_forward_args, bool(targeted), as_masks(mask, values))
        return like_inputs(inputs, moved)

    def step(
        self,
        inputs: tuple[Tensor, ...],
        epsilon: float,
        target: Any,
        additional_forward_args: Any,
        targeted: bool,
        masks: tuple[Tensor | float, ...],
    ) -> tuple[Tensor, ...]:
        """One bounded signed step on checked inputs and masks (PGD repeats it)."""
        grads = loss_gradients(self.forward, inputs, target, additional_forward_args, self.loss_func, self.output)
        sign = -1.0 if targeted else 1.0
        return tuple(
            self.bound(torch.where(g.abs() > self.zero_threshold, x + sign * epsilon * torch.sign(g) * m, x)).detach()
            for x, g, m in zip(inputs, grads, masks)
        )
