"""Where attributions live: the model's inputs, or the input or output of one of its layers.

A space turns user inputs into *points* (``capture``) and evaluates the model with gradients at
arbitrary points (``evaluate``). Methods are written once against this interface, so every
gradient method works at a layer too (e.g. token ids through a word-embedding layer).
Evaluations without gradients run under ``torch.inference_mode``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch import Tensor, nn

from ..errors import LayerError
from .model import BoundModel

Points = tuple[Tensor, ...]


class Space(Protocol):
    """The coordinates attributions are computed in."""

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        """The points that represent ``inputs`` (one row per example)."""
        ...

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        """Target values at ``points`` (rows drawn from ``example_index``) and, if ``grad``, their gradients."""
        ...


def _with_grad(points: Points) -> Points:
    return tuple(p.detach().requires_grad_(True) for p in points)


def _gradients(values: Tensor, points: Points) -> Points:
    grads = torch.autograd.grad(values.sum(), points, allow_unused=True)
    return tuple(torch.zeros_like(p) if g is None else g for g, p in zip(grads, points))


@dataclass(frozen=True)
class InputSpace:
    """Attribute to the model's inputs themselves."""

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        return inputs

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        if not grad:
            with torch.inference_mode():
                return model.values(points, example_index), None
        with torch.enable_grad():
            points = _with_grad(points)
            values = model.values(points, example_index)
            return values.detach(), _gradients(values, points)


class _Captured(Exception):
    """Raised inside a hook to stop a forward once the layer's value is known."""


@dataclass(frozen=True)
class LayerSpace:
    """Attribute to the output (or, with ``at_input``, the positional tensor inputs) of ``layer``.

    Capturing stops the forward as soon as the layer has run. Evaluating feeds each row its
    example's raw inputs and replaces the layer's value with the given points.
    """

    layer: nn.Module
    raw_inputs: Points
    at_input: bool = False

    def capture(self, model: BoundModel, inputs: Points) -> Points:
        captured: list[Points] = []

        def grab(value: Any) -> Any:
            captured.append(tuple(t.detach() for t in _tensors(value)))
            raise _Captured

        index = torch.arange(inputs[0].shape[0])
        with self._hook(grab), torch.no_grad():
            try:
                model.outputs(inputs, index)
            except _Captured:
                return captured[0]
        raise LayerError(f"{type(self.layer).__name__} never ran during the forward: is it part of this model?")

    def evaluate(self, model: BoundModel, points: Points, example_index: Tensor, grad: bool) -> tuple[Tensor, Points | None]:
        calls = 0

        def swap(value: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls > 1:
                raise LayerError(f"{type(self.layer).__name__} ran more than once in one forward; attribute to a layer that runs once")
            return _replace(value, points, self.layer)

        rows = tuple(x[example_index.to(x.device)] for x in self.raw_inputs)
        with self._hook(swap), torch.enable_grad() if grad else torch.inference_mode():
            if grad:
                points = _with_grad(points)
            values = model.values(rows, example_index)
        if calls == 0:
            raise LayerError(f"{type(self.layer).__name__} never ran during the forward: is it part of this model?")
        if not grad:
            return values, None
        return values.detach(), _gradients(values, points)

    @contextmanager
    def _hook(self, transform: Any) -> Iterator[None]:
        if self.at_input:
            handle = self.layer.register_forward_pre_hook(lambda module, args: transform(args))
        else:
            handle = self.layer.register_forward_hook(lambda module, args, output: transform(output))
        try:
            yield
        finally:
            handle.remove()


def _tensors(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        tensors = [v for v in value if isinstance(v, Tensor)]
        if tensors:
            return tensors
    raise LayerError(f"cannot attribute to a layer value of type {type(value).__name__}: expected tensors or a tuple of them")


def _replace(value: Any, points: Points, layer: nn.Module) -> Any:
    originals = _tensors(value)
    if len(originals) != len(points) or any(o.shape != p.shape for o, p in zip(originals, points)):
        raise LayerError(
            f"{type(layer).__name__}'s value has shapes {[tuple(o.shape) for o in originals]} but the points to "
            f"substitute have {[tuple(p.shape) for p in points]}; the layer's value must have one row per input row"
        )
    if isinstance(value, Tensor):
        return points[0]
    replacements = iter(points)
    return type(value)(next(replacements) if isinstance(v, Tensor) else v for v in value)
