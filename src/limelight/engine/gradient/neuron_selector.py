"""Neuron selectors: which value of a layer a neuron method explains.

A selector is, as in Captum,

- an ``int``: that unit of a ``(N, units)`` layer value (or that first index of a larger one);
- a ``tuple`` of ints and slices: an index into the layer value without its batch dimension;
  slices (and indices that leave dimensions over) select several neurons, whose **sum** is explained;
- a callable: ``f(layer value) -> (N,)`` (the value is the layer's tensor, or the tuple of its
  tensors), for anything else. It must only pick or add up neurons for conductance to mean
  "through these neurons".

:func:`neuron_forward` turns a forward into one that returns the selected neuron per row and
stops as soon as the layer has run, so every input-attribution method explains a neuron
unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from ...errors import InvalidInputError
from ..spaces import Points, _Captured, _tensors
from ..validation import is_int
from .layers import hooked, never_ran

NeuronSelector = int | tuple[int | slice, ...] | Callable[[Any], Tensor]


def check_selector(selector: Any) -> NeuronSelector:
    """A valid neuron selector, or an :class:`InvalidInputError` saying what a selector is."""
    if callable(selector) or is_int(selector):
        return selector
    if isinstance(selector, tuple) and selector and all(is_int(i) or isinstance(i, slice) for i in selector):
        return selector
    raise InvalidInputError(
        f"neuron_selector must be an int, a non-empty tuple of ints and slices (an index into the layer's value "
        f"without its batch dimension) or a callable on the layer's value returning one value per example; got {selector!r}"
    )


def select(value: Points, selector: NeuronSelector, layer: nn.Module) -> Tensor:
    """The selected neuron (or the sum of the selected neurons) for every row of a layer's value."""
    name = type(layer).__name__
    rows = value[0].shape[0]
    if callable(selector):
        picked = selector(value[0] if len(value) == 1 else value)
        if not isinstance(picked, Tensor) or picked.shape != (rows,):
            got = tuple(picked.shape) if isinstance(picked, Tensor) else type(picked).__name__
            raise InvalidInputError(f"a callable neuron_selector must return one value per example, shape ({rows},); got {got}")
        return picked
    if len(value) != 1:
        raise InvalidInputError(f"{name} gives {len(value)} tensors: pass a callable neuron_selector that picks from the tuple")
    tensor = value[0]
    index = (selector,) if is_int(selector) else selector
    shape = tuple(tensor.shape[1:])
    if not isinstance(index, tuple) or len(index) > len(shape):
        raise InvalidInputError(f"neuron_selector {selector!r} has more indices than {name}'s value has dimensions per example {shape}")
    for i, size in zip(index, shape):
        if is_int(i) and not -size <= i < size:
            raise InvalidInputError(f"neuron_selector {selector!r} is out of range for {name}'s value of shape {shape} per example")
    every_row: tuple[int | slice, ...] = (slice(None),)
    picked = tensor[every_row + index]
    if picked.numel() == 0:
        raise InvalidInputError(f"neuron_selector {selector!r} selects no neuron of {name}'s value of shape {shape} per example")
    return picked.reshape(rows, -1).sum(1) if picked.dim() > 1 else picked


@dataclass
class NeuronChoice:
    """The neuron a call explains (set by the method for the duration of the call)."""

    selector: NeuronSelector = 0
    at_input: bool = False


def neuron_forward(forward: Callable[..., Any], layer: nn.Module, choice: NeuronChoice) -> Callable[..., Tensor]:
    """A forward returning ``choice``'s neuron of ``layer`` per row; the rest of the model does not run."""

    def neuron(*args: Any, **kwargs: Any) -> Tensor:
        picked: list[Tensor] = []

        def grab(position: int, value: Any) -> None:
            picked.append(select(tuple(_tensors(value)), choice.selector, layer))
            raise _Captured

        with hooked((layer,), choice.at_input, grab):
            try:
                forward(*args, **kwargs)
            except _Captured:
                return picked[0]
        raise never_ran(layer)

    return neuron
