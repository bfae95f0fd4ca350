"""Targets: which scalar of the model's output each example is explained for.

A target spec is resolved once into a :class:`Target`, a pure function from an output chunk
(rows, ...) and the example index of each row to one value per row. Supported specs:

- ``None``: the output's one scalar per row (shape ``(rows,)`` or ``(rows, 1)``); for a larger
  output, every output: the sum of a row's outputs (Captum's meaning: the gradient of their sum);
- an ``int`` (or a 0-d integer tensor): a column of a ``(rows, classes)`` output;
- a ``tuple`` of ints: an element of an output with more than two dimensions;
- a sequence with one int or tuple per example;
- a callable ``f(output) -> (rows,)``;
- :class:`Contrast`: the difference of two targets ("why A rather than B").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import Tensor

from ..errors import TargetError
from .validation import is_int

Index = int | tuple[int, ...]
TargetSpec = Union[None, int, tuple[int, ...], Sequence[Index], Callable[[Tensor], Tensor], "Contrast"]


@dataclass(frozen=True)
class Contrast:
    """Explain ``target`` minus ``versus``: why the model prefers one output over another."""

    target: TargetSpec
    versus: TargetSpec


@dataclass(frozen=True)
class Target:
    """A resolved target: ``select(output, example_index) -> (rows,)`` values."""

    spec: TargetSpec
    n_examples: int

    def select(self, output: Tensor, example_index: Tensor) -> Tensor:
        """The explained scalar of each output row."""
        return _select(self.spec, output, example_index, self.n_examples)

    def expand(self, repeats: int) -> Target:
        """The same target for inputs where every example is repeated ``repeats`` times in a row."""
        return Target(_expand_spec(self.spec, repeats), self.n_examples * repeats)


def resolve_target(spec: TargetSpec, n_examples: int) -> Target:
    """Validate a target spec's form (not yet its range, which needs the output) for ``n_examples``."""
    spec = _scalar_tensors_as_ints(spec)
    _check_form(spec, n_examples)
    return Target(spec, n_examples)


def _scalar_tensors_as_ints(spec: Any) -> Any:
    """0-d integer tensors (``torch.tensor(2)``, also inside lists, tuples and contrasts) as Python ints."""
    if isinstance(spec, Tensor) and spec.dim() == 0:
        if spec.dtype.is_floating_point or spec.dtype.is_complex or spec.dtype == torch.bool:
            raise TargetError(f"a 0-d target tensor must hold an integer class index, got {spec.dtype}")
        return int(spec)
    if isinstance(spec, Contrast):
        return Contrast(_scalar_tensors_as_ints(spec.target), _scalar_tensors_as_ints(spec.versus))
    if isinstance(spec, list):
        return [_scalar_tensors_as_ints(item) for item in spec]
    if isinstance(spec, tuple):
        return tuple(_scalar_tensors_as_ints(item) for item in spec)
    return spec


def _is_index(value: object) -> bool:
    return is_int(value) or (isinstance(value, tuple) and len(value) > 0 and all(is_int(v) for v in value))


def _per_example(spec: object) -> bool:
    return isinstance(spec, (list, Tensor)) or (isinstance(spec, Sequence) and not isinstance(spec, (str, tuple)) and not callable(spec))


def _as_index_list(spec: object) -> list[Index]:
    if isinstance(spec, Tensor):
        if spec.dim() != 1 or spec.dtype.is_floating_point:
            raise TargetError(f"a target tensor must be 1-D integer (one class per example), got {tuple(spec.shape)} {spec.dtype}")
        return [int(v) for v in spec.tolist()]
    return list(spec)  # type: ignore[call-overload]


def _check_form(spec: TargetSpec, n_examples: int) -> None:
    if spec is None or callable(spec):
        return
    if isinstance(spec, Contrast):
        for part in (spec.target, spec.versus):
            if isinstance(part, Contrast):
                raise TargetError("a Contrast cannot contain another Contrast")
            _check_form(part, n_examples)
        return
    if _is_index(spec):
        return
    if _per_example(spec):
        items = _as_index_list(spec)
        if len(items) != n_examples:
            raise TargetError(
                f"target lists {len(items)} entries but there are {n_examples} examples; give one per example or a single int"
            )
        bad = [item for item in items if not _is_index(item)]
        if bad:
            raise TargetError(f"every per-example target must be an int or a tuple of ints, got {bad[0]!r}")
        return
    raise TargetError(f"unsupported target {spec!r}: use None, an int, a tuple of ints, one per example, a callable or Contrast")


def _expand_spec(spec: TargetSpec, repeats: int) -> TargetSpec:
    if isinstance(spec, Contrast):
        return Contrast(_expand_spec(spec.target, repeats), _expand_spec(spec.versus, repeats))
    if _per_example(spec):
        return [item for item in _as_index_list(spec) for _ in range(repeats)]
    return spec


def _select(spec: TargetSpec, output: Tensor, example_index: Tensor, n_examples: int) -> Tensor:
    if isinstance(spec, Contrast):
        return _select(spec.target, output, example_index, n_examples) - _select(spec.versus, output, example_index, n_examples)
    rows = output.shape[0]
    if callable(spec):
        values = spec(output)
        if not isinstance(values, Tensor) or values.shape != (rows,):
            shape = tuple(values.shape) if isinstance(values, Tensor) else type(values).__name__
            raise TargetError(f"a callable target must return one value per output row, shape ({rows},); got {shape}")
        return values
    trailing = tuple(output.shape[1:])
    if spec is None:
        return output.reshape(rows) if trailing in ((), (1,)) else output.reshape(rows, -1).sum(1)
    indices = [spec] * n_examples if _is_index(spec) else _as_index_list(spec)
    normalised = [_check_range(i if isinstance(i, tuple) else (i,), trailing) for i in indices]
    table = torch.tensor(normalised, dtype=torch.long, device=output.device)[example_index.to(output.device)]
    flat = output.reshape(rows, -1)
    strides = torch.tensor(_strides(trailing), dtype=torch.long, device=output.device)
    return flat.gather(1, (table * strides).sum(1, keepdim=True)).squeeze(1)


def _strides(shape: tuple[int, ...]) -> list[int]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= size
    return strides[::-1]


def _check_range(index: tuple[int, ...], trailing: tuple[int, ...]) -> tuple[int, ...]:
    if len(index) != len(trailing) or any(not 0 <= i < n for i, n in zip(index, trailing)):
        shown = index[0] if len(index) == 1 else index
        raise TargetError(f"target {shown!r} is not a valid output index: {_valid_description(trailing)}")
    return index


def _valid_description(trailing: tuple[int, ...]) -> str:
    if len(trailing) == 0:
        return "the output is one scalar per example, so target must be None"
    if len(trailing) == 1:
        return f"valid targets are the ints 0..{trailing[0] - 1}"
    ranges = ", ".join(f"0..{n - 1}" for n in trailing)
    return f"valid targets are tuples of {len(trailing)} ints in ({ranges})"
