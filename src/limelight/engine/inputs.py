"""Normalising what users pass: inputs, baselines and extra forward arguments.

Inputs are a tensor or a tuple of tensors, batch first. Internally they are always a tuple;
:func:`restore_structure` gives results back in the form the user passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import torch
from torch import Tensor

from ..errors import InvalidInputError

Inputs = Union[Tensor, tuple[Tensor, ...]]
BaselineSpec = Union[None, int, float, Tensor, tuple[Union[int, float, Tensor], ...]]


def as_tuple(inputs: Inputs, name: str = "inputs") -> tuple[Tensor, ...]:
    """``inputs`` as a non-empty tuple of tensors sharing one batch size."""
    items = (inputs,) if isinstance(inputs, Tensor) else inputs
    if not isinstance(items, tuple) or not items or not all(isinstance(t, Tensor) for t in items):
        raise InvalidInputError(f"{name} must be a tensor or a non-empty tuple of tensors, got {type(inputs).__name__}")
    sizes = {t.shape[0] if t.dim() else None for t in items}
    if None in sizes:
        raise InvalidInputError(f"{name} must be batch first (at least one dimension); got a 0-d tensor")
    if len(sizes) != 1:
        raise InvalidInputError(f"every tensor in {name} must have the same batch size, got {sorted(sizes)}")
    return tuple(items)


def restore_structure(values: tuple[Tensor, ...], like: Inputs) -> Inputs:
    """Return a single tensor when the user passed one, else the tuple."""
    return values[0] if isinstance(like, Tensor) else values


def batch_size(inputs: tuple[Tensor, ...]) -> int:
    """The shared first dimension of the inputs."""
    return inputs[0].shape[0]


def resolve_baselines(baselines: BaselineSpec, inputs: tuple[Tensor, ...], name: str = "baselines") -> tuple[Tensor, ...]:
    """One baseline tensor per input, shaped like it: a scalar, a batch of 1 or a full batch broadcast.

    ``None`` means zeros.
    """
    if baselines is None:
        return tuple(torch.zeros_like(x) for x in inputs)
    items = baselines if isinstance(baselines, tuple) else (baselines,)
    if len(items) != len(inputs):
        raise InvalidInputError(f"{name} has {len(items)} entries but there are {len(inputs)} inputs; give one per input")
    return tuple(_broadcast_baseline(b, x, i, name) for i, (b, x) in enumerate(zip(items, inputs)))


def _broadcast_baseline(baseline: Any, x: Tensor, position: int, name: str) -> Tensor:
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(x, baseline)
    if not isinstance(baseline, Tensor):
        raise InvalidInputError(f"{name}[{position}] must be a number or a tensor, got {type(baseline).__name__}")
    baseline = baseline.to(device=x.device, dtype=x.dtype)
    if baseline.shape == x.shape:
        return baseline
    if baseline.shape == x.shape[1:] or (baseline.dim() == x.dim() and baseline.shape[0] == 1 and baseline.shape[1:] == x.shape[1:]):
        return baseline.expand_as(x).clone()
    raise InvalidInputError(
        f"{name}[{position}] has shape {tuple(baseline.shape)}, which does not broadcast to the input's "
        f"{tuple(x.shape)}; use the input's shape, a batch of one, or a scalar"
    )


@dataclass(frozen=True)
class ForwardArgs:
    """Extra positional and keyword arguments passed to the forward after the inputs.

    Tensors whose first dimension equals the number of examples are per-example (an
    ``attention_mask``, say): each evaluated row gets its own example's slice. Everything
    else is passed unchanged.
    """

    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    n_examples: int = 0

    def for_rows(self, example_index: Tensor) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Arguments for a chunk of rows, each taken from its example."""
        pick = lambda value: self._pick(value, example_index)  # noqa: E731
        return tuple(pick(a) for a in self.args), {k: pick(v) for k, v in self.kwargs.items()}

    def expand(self, repeats: int) -> ForwardArgs:
        """The arguments for inputs whose every example is repeated ``repeats`` times in a row."""
        index = torch.arange(self.n_examples).repeat_interleave(repeats)
        args, kwargs = self.for_rows(index)
        return ForwardArgs(args, kwargs, self.n_examples * repeats)

    def _pick(self, value: Any, example_index: Tensor) -> Any:
        if isinstance(value, Tensor) and value.dim() > 0 and value.shape[0] == self.n_examples:
            return value[example_index.to(value.device)]
        return value


def make_forward_args(additional_forward_args: Any, forward_kwargs: Mapping[str, Any] | None, n_examples: int) -> ForwardArgs:
    """Normalise ``additional_forward_args`` (one value or a tuple) and ``forward_kwargs``."""
    if additional_forward_args is None:
        args: tuple[Any, ...] = ()
    elif isinstance(additional_forward_args, tuple):
        args = additional_forward_args
    else:
        args = (additional_forward_args,)
    if forward_kwargs is not None and not isinstance(forward_kwargs, Mapping):
        raise InvalidInputError(f"forward_kwargs must be a mapping of keyword arguments, got {type(forward_kwargs).__name__}")
    return ForwardArgs(args, dict(forward_kwargs or {}), n_examples)
