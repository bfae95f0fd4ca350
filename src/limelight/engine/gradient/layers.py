"""Hooks on one or several layers: read their values, take gradients at them, or swap them.

The layer methods share these spaces (see :mod:`limelight.engine.spaces` for the protocol):

- :class:`ThroughLayers`: points are the model's *inputs*; gradients are taken at the layers'
  values as the forward computes them (conductance, internal influence, layer GradientSHAP,
  gradient x activation). With ``multiply`` the gradient comes back times the layer's value.
- :class:`SwappedLayers`: points are the layers' values, swapped in while each row runs its
  example's own inputs; :class:`~limelight.engine.spaces.LayerSpace` for several layers at once
  (Layer Integrated Gradients over a list of layers: one forward per row for all of them).
- :func:`capture`: the layers' values in one forward without gradients, stopped once the last
  layer has run.

Every hook refuses a layer that runs more than once per forward (its value would be ambiguous)
or never runs, with a :class:`~limelight.errors.LayerError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ...errors import BatchDependenceError, InvalidInputError, LayerError
from ..guards import ATOL, RTOL
from ..model import BoundModel
from ..spaces import LayerSpace, Points, _Captured, _replace, _tensors

LayerSpec = nn.Module | Sequence[nn.Module]
"""One layer, or a list of layers read in the same forward."""


def as_layers(layer: Any, method: str) -> tuple[nn.Module, ...]:
    """``layer`` as a non-empty tuple of distinct modules (``method`` names the caller in errors)."""
    layers = tuple(layer) if isinstance(layer, (list, tuple)) else (layer,)
    if not layers or not all(isinstance(m, nn.Module) for m in layers):
        raise InvalidInputError(f"{method} needs a layer: a torch.nn.Module of the model or a list of them, got {layer!r}")
    if len({id(m) for m in layers}) != len(layers):
        raise InvalidInputError(f"{method} got the same layer twice in its list of layers; give each layer once")
    return layers


def _name(layer: nn.Module) -> str:
    return type(layer).__name__


@contextmanager
def hooked(layers: Sequence[nn.Module], at_input: bool, transform: Callable[[int, Any], Any]) -> Iterator[list[int]]:
    """Hooks calling ``transform(position, value)`` on each layer's output (or positional inputs).

    ``transform`` returns a replacement value or ``None`` (keep it). Yields the per-layer call
    counts; a second call of a layer in one forward raises :class:`LayerError`.
    """
    calls = [0] * len(layers)

    def call(position: int, value: Any) -> Any:
        calls[position] += 1
        if calls[position] > 1:
            raise LayerError(f"{_name(layers[position])} ran more than once in one forward; attribute to a layer that runs once")
        return transform(position, value)

    handles = [
        layer.register_forward_pre_hook(lambda module, args, i=i: call(i, args))
        if at_input
        else layer.register_forward_hook(lambda module, args, output, i=i: call(i, output))
        for i, layer in enumerate(layers)
    ]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def never_ran(layer: nn.Module) -> LayerError:
    """The error for a layer that did not run during a forward."""
    return LayerError(f"{_name(layer)} never ran during the forward: is it part of this model?")


def check_ran(layers: Sequence[nn.Module], calls: list[int]) -> None:
    """Raise :class:`LayerError` for the first layer that did not run."""
    for layer, count in zip(layers, calls):
        if count == 0:
            raise never_ran(layer)


def capture(model: BoundModel, layers: Sequence[nn.Module], at_input: bool, rows: Points, example_index: Tensor) -> list[Points]:
    """Each layer's value (its tensors, detached) for ``rows``, in one forward without gradients.

    The forward stops as soon as the last of the layers has run.
    """
    values: list[Points | None] = [None] * len(layers)

    def grab(position: int, value: Any) -> None:
        values[position] = tuple(t.detach() for t in _tensors(value))
        if all(v is not None for v in values):
            raise _Captured

    with hooked(layers, at_input, grab) as calls, torch.no_grad():
        try:
            model.outputs(rows, example_index)
        except _Captured:
            return [v for v in values if v is not None]
    raise never_ran(next(layer for layer, count in zip(layers, calls) if count == 0))


def capture_batch(
    model: BoundModel, layers: Sequence[nn.Module], at_input: bool, inputs: Points, example_index: Tensor, check: bool
) -> list[Points]:
    """:func:`capture` for rows of examples; with ``check``, the first row's value alone must equal its value among the rest.

    Methods that read a layer once for all examples rely on each row's value depending on its
    own input row alone; the check (one more forward of one row) raises
    :class:`~limelight.errors.BatchDependenceError` otherwise.
    """
    values = capture(model, layers, at_input, inputs, example_index)
    if check and inputs[0].shape[0] > 1:
        alone = capture(model, layers, at_input, tuple(x[:1] for x in inputs), example_index[:1])
        for layer, batch, single in zip(layers, values, alone):
            if not all(torch.allclose(b[:1], a, rtol=RTOL, atol=ATOL) for b, a in zip(batch, single)):
                raise BatchDependenceError(
                    f"{_name(layer)}'s value for example 0 changes when the other examples join the batch: the forward "
                    "mixes rows before the layer (batch statistics, indexing over the batch). Make each row's value depend "
                    "on its own input row alone."
                )
    return values


def flat(values: list[Points]) -> Points:
    """The tensors of several layers' values in one tuple, layer by layer."""
    return tuple(t for value in values for t in value)


@dataclass(frozen=True)
class ThroughLayers:
    """Points are the inputs; gradients of the explained value are taken at the layers' values.

    The gradients of all layers come back in one tuple (each layer's tensors in order); with
    ``multiply`` each is multiplied by the layer's value at that point.
    """

    layers: tuple[nn.Module, ...]
    at_input: bool = False
    multiply: bool = False

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        return inputs

    def values(self, model: BoundModel, rows: Points, example_index: Tensor) -> list[Points]:
        """The layers' values at input rows (see :func:`capture`)."""
        return capture(model, self.layers, self.at_input, rows, example_index)

    def change(self, model: BoundModel, start: Points, end: Points, example_index: Tensor) -> Points:
        """``y(end) - y(start)`` for the layers' tensors ``y``, at two sets of input rows (one forward)."""
        rows = start[0].shape[0]
        both = tuple(torch.cat(pair) for pair in zip(start, end))
        values = flat(self.values(model, both, torch.cat([example_index, example_index])))
        return tuple(v[rows:] - v[:rows] for v in values)

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        seen: list[Points] = [() for _ in self.layers]

        def keep(position: int, value: Any) -> None:
            seen[position] = tuple(_tensors(value))

        with hooked(self.layers, self.at_input, keep) as calls:
            if not grad:
                with torch.inference_mode():
                    values = model.values(points, example_index)
                check_ran(self.layers, calls)
                return values, None
            with torch.enable_grad():
                points = tuple(p.detach().requires_grad_(p.dtype.is_floating_point) for p in points)
                values = model.values(points, example_index)
        check_ran(self.layers, calls)
        tensors = flat(seen)
        differentiable = [t for t in tensors if t.requires_grad]
        found = iter(torch.autograd.grad(values.sum(), differentiable, allow_unused=True) if differentiable else ())
        grads = []
        for t in tensors:
            g = next(found) if t.requires_grad else None
            g = torch.zeros_like(t) if g is None else g
            grads.append(g * t.detach() if self.multiply else g)
        return values.detach(), tuple(grads)


@dataclass(frozen=True)
class SwappedLayers(LayerSpace):
    """:class:`~limelight.engine.spaces.LayerSpace` over ``layers`` (one tensor each): points are their values, swapped in.

    ``layer`` is the first of ``layers`` (so everything that handles a layer space handles this one).
    """

    layers: tuple[nn.Module, ...] = ()

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        values = capture(model, self.layers, self.at_input, inputs, torch.arange(inputs[0].shape[0]))
        for layer, value in zip(self.layers, values):
            if len(value) != 1:
                raise LayerError(
                    f"{_name(layer)} gives {len(value)} tensors; in a list of layers each layer must give one tensor "
                    "(attribute to a layer with several tensors on its own)"
                )
        return flat(values)

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        if grad:
            points = tuple(p.detach().requires_grad_(True) for p in points)

        def swap(position: int, value: Any) -> Any:
            return _replace(value, (points[position],), self.layers[position])

        rows = tuple(x[example_index.to(x.device)] for x in self.raw_inputs)
        with hooked(self.layers, self.at_input, swap) as calls, torch.enable_grad() if grad else torch.inference_mode():
            values = model.values(rows, example_index)
        check_ran(self.layers, calls)
        if not grad:
            return values, None
        grads = torch.autograd.grad(values.sum(), points, allow_unused=True)
        return values.detach(), tuple(torch.zeros_like(p) if g is None else g for g, p in zip(grads, points))
