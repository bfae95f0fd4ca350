"""Autograd nodes that keep a value and replace its backward: the only way rules change gradients.

Every rule leaves the forward's values exactly as they are and decides only what flows back:

- :func:`substitute`: the value of one computation, the gradient of another (a *surrogate* graph,
  built from modified parameters or inputs);
- :func:`scaled`: an element-wise value whose derivative is a given multiplier (DeepLift's
  Rescale, LRP's identity rule, the normalisation rules), in place when the call was;
- :func:`entry`: where a propagation backward ends, turning the carried gradient into relevance
  (``input * gradient``) and adding what first-layer rules handed over directly.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

ORDINARY = object()
"""What a function rule returns for a call it leaves alone (it then runs as usual)."""


class _Substitute(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, value: Tensor, surrogate: Tensor) -> Tensor:
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[None, Tensor]:
        return None, grad


def substitute(value: Tensor, surrogate: Tensor) -> Tensor:
    """``value`` forward; backward through ``surrogate`` (same shape), whose own value is ignored."""
    return _Substitute.apply(value.detach(), surrogate)


class _Scaled(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, value: Tensor, multiplier: Tensor, inplace: bool) -> Tensor:
        ctx.save_for_backward(multiplier)
        if inplace:
            ctx.mark_dirty(x)
            return x.copy_(value)
        return value.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (multiplier,) = ctx.saved_tensors
        return grad * multiplier, None, None, None


def scaled(x: Tensor, value: Tensor, multiplier: Tensor, inplace: bool = False) -> Tensor:
    """``value`` (computed from ``x`` element-wise) whose derivative with respect to ``x`` is ``multiplier``."""
    return _Scaled.apply(x, value.detach().to(x.dtype), multiplier.detach().to(x.dtype), inplace)


class Handover:
    """Relevance that a first-layer rule hands to the input directly (it cannot be written as ``input * gradient``)."""

    def __init__(self) -> None:
        self.relevance: Tensor | None = None

    def add(self, relevance: Tensor) -> None:
        self.relevance = relevance if self.relevance is None else self.relevance + relevance


class _Entry(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, handover: Handover) -> Tensor:
        ctx.save_for_backward(x)
        ctx.handover = handover
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        relevance = x * grad
        handed = ctx.handover.relevance
        return (relevance if handed is None else relevance + handed.to(relevance.dtype)), None


def entry(x: Tensor, handover: Handover) -> Tensor:
    """``x`` forward; backward: the relevance ``x * gradient`` plus ``handover``'s, as the gradient of ``x``."""
    return _Entry.apply(x, handover)
