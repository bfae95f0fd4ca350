"""What FGSM, PGD and the minimal-perturbation search share: inputs as tuples, masks, the loss and its gradient.

An attack moves continuous inputs (pixels, features, word embeddings) so that a loss grows
(untargeted: the loss of the true label) or shrinks (targeted: the loss of the wanted label).
The loss of a batch is the sum of its rows' losses, so each row's gradient is its own loss's
gradient whatever else is in the batch (rows must not interact, as everywhere in limelight).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..engine.forward import OutputSpec, read_output
from ..engine.targets import TargetSpec, resolve_target
from ..errors import InvalidInputError, NonFiniteError

Inputs = Tensor | tuple[Tensor, ...]
"""One input tensor, or a tuple of them with the same first (batch) dimension."""

LossFn = Callable[[Tensor, Any], Tensor]
"""``loss_func(outputs, target)`` -> one loss per row, or a scalar (a sum over rows keeps rows independent)."""


def as_tuple(inputs: Any, name: str = "inputs") -> tuple[Tensor, ...]:
    """``inputs`` as a non-empty tuple of floating-point tensors with one shared batch size."""
    values = inputs if isinstance(inputs, tuple) else (inputs,)
    if not values or not all(isinstance(v, Tensor) for v in values):
        raise InvalidInputError(f"{name} must be a tensor or a tuple of tensors, got {type(inputs).__name__}")
    if not all(v.is_floating_point() for v in values):
        raise InvalidInputError(
            f"{name} must be floating-point tensors (an attack moves values continuously); for token ids attack the embeddings"
        )
    if any(v.dim() == 0 for v in values) or len({v.shape[0] for v in values}) != 1:
        raise InvalidInputError(f"{name} need a shared first (batch) dimension, got shapes {[tuple(v.shape) for v in values]}")
    return values


def like_inputs(template: Any, values: tuple[Tensor, ...]) -> Inputs:
    """``values`` in the form the user gave (a single tensor stays a single tensor)."""
    return values if isinstance(template, tuple) else values[0]


def as_masks(mask: Any, inputs: tuple[Tensor, ...]) -> tuple[Tensor | float, ...]:
    """One mask per input (``1.0``: every element may move); a given mask must have its input's shape."""
    if mask is None:
        return (1.0,) * len(inputs)
    given = mask if isinstance(mask, tuple) else (mask,)
    if not all(isinstance(m, Tensor) for m in given):
        raise InvalidInputError(f"mask must be a tensor or a tuple of tensors (one per input), got {type(mask).__name__}")
    masks = tuple(m.to(x.dtype) for m, x in zip(given, inputs))
    if len(given) != len(inputs) or any(m.shape != x.shape for m, x in zip(masks, inputs)):
        raise InvalidInputError(
            f"mask needs one tensor of each input's shape {[tuple(x.shape) for x in inputs]}, got {[tuple(m.shape) for m in masks]}"
        )
    return masks


def batch_size(inputs: tuple[Tensor, ...]) -> int:
    """The shared first dimension of the inputs."""
    return int(inputs[0].shape[0])


def per_row_loss(outputs: Tensor, target: TargetSpec, rows: int, loss_func: LossFn | None) -> Tensor:
    """The loss to differentiate: ``loss_func(outputs, target)``, or cross-entropy of the target class of logits."""
    if loss_func is not None:
        return loss_func(outputs, target)
    if outputs.dim() < 2:
        raise InvalidInputError(
            f"the default loss (cross-entropy) needs outputs of shape (rows, classes), got {tuple(outputs.shape)}; pass loss_func"
        )
    chosen = resolve_target(target, rows).select(torch.log_softmax(outputs, dim=-1), torch.arange(rows))
    return -chosen


def loss_gradients(
    forward: Callable[..., Any],
    inputs: tuple[Tensor, ...],
    target: TargetSpec,
    additional_forward_args: Any,
    loss_func: LossFn | None,
    output: OutputSpec = "logits",
) -> tuple[Tensor, ...]:
    """The gradient of the summed loss with respect to each input (computed on detached copies)."""
    with torch.enable_grad():
        leaves = tuple(x.detach().requires_grad_(True) for x in inputs)
        outputs = run_forward(forward, leaves, additional_forward_args, output)
        loss = per_row_loss(outputs, target, batch_size(inputs), loss_func)
        grads = torch.autograd.grad(loss.sum(), leaves, allow_unused=True)
    out = tuple(torch.zeros_like(x) if g is None else g.detach() for x, g in zip(inputs, grads))
    if not all(bool(torch.isfinite(g).all()) for g in out):
        raise NonFiniteError("the loss gradient has NaN or infinite values; check the forward and the loss")
    return out


def run_forward(
    forward: Callable[..., Any], inputs: Sequence[Tensor], additional_forward_args: Any, output: OutputSpec = "logits"
) -> Tensor:
    """``forward(*inputs, *additional_forward_args)``, read as a tensor (a Hugging Face output gives its logits)."""
    extra = () if additional_forward_args is None else additional_forward_args
    extra = extra if isinstance(extra, tuple) else (extra,)
    return read_output(forward(*inputs, *extra), output)


def predictions(
    forward: Callable[..., Any], inputs: Sequence[Tensor], additional_forward_args: Any, output: OutputSpec = "logits"
) -> Tensor:
    """The predicted class (arg max of the output's last dimension) of each row, without gradients."""
    with torch.no_grad():
        outputs = run_forward(forward, inputs, additional_forward_args, output)
    if outputs.dim() != 2:
        raise InvalidInputError(f"deciding whether a prediction flipped needs outputs of shape (rows, classes), got {tuple(outputs.shape)}")
    return outputs.argmax(dim=-1)


def target_classes(target: Any, rows: int) -> Tensor:
    """A class index per row from an int, a sequence of ints or a 1-D tensor of them (a flip is judged against it)."""
    value = torch.as_tensor(target) if not isinstance(target, Tensor) else target
    if value.dtype in (torch.bool,) or value.is_floating_point() or value.dim() > 1:
        raise InvalidInputError(f"target must be a class index or one per row, got {target!r}")
    value = value.reshape(-1).long()
    if value.numel() == 1:
        value = value.expand(rows)
    if value.numel() != rows:
        raise InvalidInputError(f"target needs one class per row ({rows}), got {value.numel()}")
    return value
