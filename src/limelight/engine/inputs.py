"""Normalising what users pass: inputs, baselines and extra forward arguments.

Inputs are a tensor or a tuple of tensors, batch first. Internally they are always a tuple;
:func:`restore_structure` gives results back in the form the user passed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..errors import InvalidInputError

Inputs = Tensor | tuple[Tensor, ...]
BaselineSpec = None | bool | int | float | Tensor | tuple[bool | int | float | Tensor, ...] | Callable[..., Any]
"""``None`` (zeros), a number, a tensor broadcastable to the input, one per input, or a callable that returns them."""


def call_baselines(baselines: Any, inputs: tuple[Tensor, ...]) -> Any:
    """Baselines given as a callable (Captum's convenience): called with no argument, or with the inputs.

    A callable taking one parameter gets the inputs (the tensor, or the tuple of several);
    anything else is returned as is.
    """
    if not callable(baselines) or isinstance(baselines, Tensor):
        return baselines
    try:
        takes_inputs = len(inspect.signature(baselines).parameters) > 0
    except (TypeError, ValueError):
        takes_inputs = True
    return baselines(inputs[0] if len(inputs) == 1 else inputs) if takes_inputs else baselines()


def as_tuple(inputs: Inputs, name: str = "inputs") -> tuple[Tensor, ...]:
    """``inputs`` as a non-empty tuple of tensors sharing one batch size of at least one example."""
    items = (inputs,) if isinstance(inputs, Tensor) else inputs
    if not isinstance(items, tuple) or not items or not all(isinstance(t, Tensor) for t in items):
        raise InvalidInputError(f"{name} must be a tensor or a non-empty tuple of tensors, got {type(inputs).__name__}")
    if any(t.dim() == 0 for t in items):
        raise InvalidInputError(f"{name} must be batch first (at least one dimension); got a 0-d tensor")
    sizes = {t.shape[0] for t in items}
    if len(sizes) != 1:
        raise InvalidInputError(f"every tensor in {name} must have the same batch size, got {sorted(sizes)}")
    if 0 in sizes:
        raise InvalidInputError(f"{name} has no examples (batch size 0); pass at least one example")
    return tuple(items)


def restore_structure(values: tuple[Tensor, ...], like: Inputs) -> Inputs:
    """Return a single tensor when the user passed one, else the tuple."""
    return values[0] if isinstance(like, Tensor) else values


def resolve_baselines(baselines: BaselineSpec, inputs: tuple[Tensor, ...], name: str = "baselines") -> tuple[Tensor, ...]:
    """One baseline tensor per input, shaped like it: a scalar, a batch of 1 or a full batch broadcast.

    ``None`` means zeros; a callable is called first (:func:`call_baselines`). A baseline
    broadcasts to its input as torch broadcasts (``(N, 1)`` for ``(N, D)``, a 0-d tensor, one
    example without its batch dimension). Baselines take the input's dtype, so the forward sees
    them exactly as given: a baseline that an integer or boolean input's dtype cannot hold
    (``0.5`` for token ids, ``-1`` for ``uint8``) is refused rather than silently rounded or wrapped;
    ``True`` and ``False`` are baselines of boolean inputs.
    """
    baselines = call_baselines(baselines, inputs)
    if baselines is None:
        return tuple(torch.zeros_like(x) for x in inputs)
    items = baselines if isinstance(baselines, tuple) else (baselines,)
    if len(items) != len(inputs):
        raise InvalidInputError(f"{name} has {len(items)} entries but there are {len(inputs)} inputs; give one per input")
    return tuple(_broadcast_baseline(b, x, i, name) for i, (b, x) in enumerate(zip(items, inputs)))


def _broadcast_baseline(baseline: Any, x: Tensor, position: int, name: str) -> Tensor:
    if isinstance(baseline, (bool, int, float)):
        baseline = torch.tensor(baseline, dtype=torch.float64 if isinstance(baseline, float) else None)
    if not isinstance(baseline, Tensor):
        raise InvalidInputError(f"{name}[{position}] must be a number or a tensor, got {type(baseline).__name__}")
    baseline = _in_dtype_of(baseline.to(device=x.device), x, f"{name}[{position}]")
    if baseline.shape == x.shape:
        return baseline
    same_rank = baseline.dim() == x.dim() and all(b in (1, n) for b, n in zip(baseline.shape, x.shape))
    if baseline.dim() == 0 or baseline.shape == x.shape[1:] or same_rank:
        return baseline.expand_as(x).clone()
    raise InvalidInputError(
        f"{name}[{position}] has shape {tuple(baseline.shape)}, which does not broadcast to the input's "
        f"{tuple(x.shape)}; use the input's shape, a batch of one, size-1 dimensions (e.g. (N, 1)), or a scalar"
    )


def _in_dtype_of(baseline: Tensor, x: Tensor, name: str) -> Tensor:
    """``baseline`` in ``x``'s dtype; for integer or boolean inputs only if no value changes on the way."""
    cast = baseline.to(dtype=x.dtype)
    if x.dtype.is_floating_point or x.dtype.is_complex or baseline.dtype == x.dtype:
        return cast
    changed = cast.to(baseline.dtype) != baseline
    if changed.any():
        value = baseline[changed][0].item()
        raise InvalidInputError(
            f"{name} holds {value!r}, which the input's dtype {x.dtype} cannot hold (it would become "
            f"{cast[changed][0].item()!r}). Token ids need baselines of their dtype (a pad or mask id); if the "
            "forward reads this input as numbers, pass it as floating point (x.float()) to use this baseline exactly"
        )
    return cast


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
