"""Rectifiers seen as torch function calls, and the guided rules that change their backward.

A rectifier is ``min(max(x, 0), upper)`` however it is spelled: ``F.relu``, ``x.relu_()``,
``F.relu6``, ``hardtanh(x, 0, 6)``, ``clamp(min=0)``, ``threshold(x, 0, 0)``. :func:`as_rectifier`
recognises such a call from its arguments; :class:`RectifierFunctions` (used by the propagation
context, :mod:`.context`) replaces each one by a node that differentiates by a
:data:`GradientRule`: guided backpropagation or deconvolution. In-place variants stay in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .surrogates import ORDINARY

GradientRule = Callable[[Tensor, Tensor], Tensor]
"""``(grad_output, passes) -> grad_input`` for a rectifier; ``passes`` is where its ordinary gradient is 1."""


@dataclass(frozen=True)
class _Signature:
    """How to read one rectifier function's arguments: names in order, defaults, and whether it works in place."""

    names: tuple[str, ...]
    defaults: tuple[Any, ...]
    inplace: bool | None = None
    """``True``/``False`` for a fixed variant; ``None``: read the ``inplace`` argument."""


_RELU = _Signature(("input", "inplace"), (False,))
_RELU_FIXED = _Signature(("input",), (), inplace=False)
_RELU_FIXED_ = _Signature(("input",), (), inplace=True)
_HARDTANH = _Signature(("input", "min_val", "max_val", "inplace"), (-1.0, 1.0, False))
_CLAMP = _Signature(("input", "min", "max"), (None, None), inplace=False)
_CLAMP_ = _Signature(("input", "min", "max"), (None, None), inplace=True)
_CLAMP_MIN = _Signature(("input", "min"), (), inplace=False)
_CLAMP_MIN_ = _Signature(("input", "min"), (), inplace=True)
_THRESHOLD = _Signature(("input", "threshold", "value", "inplace"), (False,))

_RECTIFIERS: dict[Any, _Signature] = {
    F.relu: _RELU,
    F.relu_: _RELU_FIXED_,
    torch.relu: _RELU_FIXED,
    torch.relu_: _RELU_FIXED_,
    Tensor.relu: _RELU_FIXED,
    Tensor.relu_: _RELU_FIXED_,
    F.relu6: _RELU,
    F.hardtanh: _HARDTANH,
    F.hardtanh_: _Signature(("input", "min_val", "max_val"), (-1.0, 1.0), inplace=True),
    torch.clamp: _CLAMP,
    Tensor.clamp: _CLAMP,
    Tensor.clamp_: _CLAMP_,
    torch.clamp_min: _CLAMP_MIN,
    Tensor.clamp_min: _CLAMP_MIN,
    Tensor.clamp_min_: _CLAMP_MIN_,
    F.threshold: _THRESHOLD,
}
"""The torch functions that can compute a rectifier ``min(max(x, 0), upper)``."""


def _bind(signature: _Signature, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The call's arguments by name, or ``None`` if the call does not fit the signature."""
    if len(args) > len(signature.names):
        return None
    bound = dict(zip(signature.names, args))
    required = len(signature.names) - len(signature.defaults)
    for name, default in zip(signature.names[required:], signature.defaults):
        bound.setdefault(name, default)
    for name, value in kwargs.items():
        if name not in signature.names or name in bound and signature.names.index(name) < len(args):
            return None
        bound[name] = value
    return bound if set(signature.names) <= set(bound) else None


def _zero(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


@dataclass(frozen=True)
class Rectifier:
    """One intercepted call of ``min(max(x, 0), upper)`` (``upper=None``: a plain ReLU)."""

    input: Tensor
    upper: float | None
    inplace: bool


def as_rectifier(func: Any, args: Sequence[Any], kwargs: dict[str, Any] | None) -> Rectifier | None:
    """The rectifier a torch function call computes, or ``None`` if it computes something else.

    ``relu``/``relu6``, ``hardtanh`` with ``min_val=0``, ``clamp`` with ``min=0`` and
    ``threshold(x, 0, 0)`` are rectifiers; other activations (leaky ReLU, GELU, sigmoid, ...)
    keep their ordinary gradient.
    """
    signature = _RECTIFIERS.get(func)
    if signature is None:
        return None
    bound = _bind(signature, args, kwargs or {})
    if bound is None or not isinstance(bound["input"], Tensor) or not bound["input"].dtype.is_floating_point:
        return None
    inplace = bool(bound.get("inplace", False)) if signature.inplace is None else signature.inplace
    if "min_val" in bound:  # hardtanh
        lower, upper = bound["min_val"], bound["max_val"]
    elif "threshold" in bound:
        lower, upper = (0, None) if _zero(bound["threshold"]) and _zero(bound["value"]) else (None, None)
    elif "min" in bound:
        lower, upper = bound["min"], bound.get("max")
    else:
        lower, upper = 0, (6.0 if func is F.relu6 else None)
    if not _zero(lower) or not (upper is None or isinstance(upper, (int, float)) and not isinstance(upper, bool) and upper > 0):
        return None
    return Rectifier(bound["input"], None if upper is None else float(upper), inplace)


class _RectifierFunction(torch.autograd.Function):
    """``min(max(x, 0), upper)`` forward (in place if asked), ``rule(grad, passes)`` backward."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, upper: float | None, inplace: bool, rule: GradientRule) -> Tensor:
        passes = (x > 0) if upper is None else (x > 0) & (x < upper)
        ctx.passes, ctx.rule = passes, rule
        if inplace:
            ctx.mark_dirty(x)
            return x.clamp_(0, upper)
        return x.clamp(0, upper)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor, None, None, None]:
        return ctx.rule(grad_output, ctx.passes), None, None, None


def guided_rule(grad_output: Tensor, passes: Tensor) -> Tensor:
    """Guided backpropagation: the ordinary gradient, with its negative part removed."""
    return (grad_output * passes).clamp(min=0)


def deconvolution_rule(grad_output: Tensor, passes: Tensor) -> Tensor:
    """Deconvolution (the deconvnet): the gradient's positive part, whatever the forward's input was."""
    return grad_output.clamp(min=0)


class RectifierFunctions:
    """Function rules of guided backpropagation and deconvolution: every rectifier call differentiates by ``rule``."""

    def __init__(self, rule: GradientRule) -> None:
        self.rule = rule

    def handle(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """The rectifier's value through a rule node, or :data:`~.surrogates.ORDINARY` for any other call."""
        found = as_rectifier(func, args, kwargs)
        if found is None:
            return ORDINARY
        return _RectifierFunction.apply(found.input, found.upper, found.inplace, self.rule)
