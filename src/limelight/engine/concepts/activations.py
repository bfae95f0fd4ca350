"""Pooled activations and gradients of several layers, from one forward (and one backward) per chunk.

A *pool* turns a layer's value ``(rows, ...)`` into one vector per row: ``"flatten"`` (Kim et al.,
2018), ``"first"`` (position 0, e.g. a transformer's first token), ``"spatial_mean"`` (mean over
every axis after the channels, for ``(rows, channels, ...)`` feature maps), or a callable
``pool(value, inputs) -> (rows, D)`` that must be linear in ``value`` (front ends offer e.g. a mean
over a text's real tokens). Gradients are pooled by the same map: for a pool ``P`` whose ``P P^T``
is a positive multiple of the identity per row (all of the above), ``<P(grad), v>`` has the sign
of the derivative along the smallest change of the layer that moves the pooled vector by ``v``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from ...errors import InvalidInputError, LayerError
from ..forward import OutputSpec, read_output
from .concept import ModelInputs, call_model, count_rows, take_rows

Pool = str | Callable[[Tensor, ModelInputs], Tensor]
POOLS = ("flatten", "first", "spatial_mean")


def check_pool(pool: Any) -> Pool:
    """A pool name of :data:`POOLS` or a callable."""
    if callable(pool) or pool in POOLS:
        return pool
    raise InvalidInputError(f"pool must be one of {POOLS} or a callable (value, inputs) -> (rows, D), got {pool!r}")


def pooled(pool: Pool, value: Tensor, inputs: ModelInputs) -> Tensor:
    """One vector per row of a layer's value (or of its gradient)."""
    if callable(pool):
        out = pool(value, inputs)
    elif pool == "flatten":
        out = value.flatten(1)
    elif value.dim() < 3:
        raise InvalidInputError(f"pool={pool!r} needs a layer value of (rows, positions or channels, ...); got {tuple(value.shape)}")
    elif pool == "first":
        out = value[:, 0].flatten(1)
    else:
        out = value.flatten(2).mean(-1)
    if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[0] != value.shape[0]:
        raise InvalidInputError(f"the pool must give one vector per row (rows, D); got {getattr(out, 'shape', type(out).__name__)}")
    return out


def _first_tensor(value: Any, name: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], Tensor):
        return value[0]
    raise LayerError(f"layer {name!r} returned {type(value).__name__}; TCAV needs a tensor (or a tuple starting with one)")


@contextmanager
def _recording(layers: Sequence[tuple[str, nn.Module]]) -> Iterator[dict[str, Tensor]]:
    """Hooks that record each layer's output (with its graph) during one forward."""
    seen: dict[str, Tensor] = {}

    def recorder(name: str) -> Callable[[nn.Module, Any, Any], None]:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if name in seen:
                raise LayerError(f"layer {name!r} ran more than once in one forward; choose a layer that runs once")
            seen[name] = _first_tensor(output, name)

        return hook

    handles = [module.register_forward_hook(recorder(name)) for name, module in layers]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def _check_seen(layers: Sequence[tuple[str, nn.Module]], seen: dict[str, Tensor]) -> None:
    missing = [name for name, _ in layers if name not in seen]
    if missing:
        raise LayerError(f"layer(s) {missing} never ran during the forward: are they part of this model's forward?")


def layer_values(
    model: nn.Module,
    layers: Sequence[tuple[str, nn.Module]],
    inputs: ModelInputs,
    pool: Pool,
    batch_size: int,
    device: torch.device,
    *,
    output: OutputSpec | None = None,
    target: int | None = None,
) -> dict[str, Tensor]:
    """Per layer, pooled activations ``(rows, D)``; with ``target``, pooled gradients of ``output[:, target]`` instead."""
    count = count_rows(inputs, "the examples")
    parts: dict[str, list[Tensor]] = {name: [] for name, _ in layers}
    for start in range(0, count, batch_size):
        chunk = take_rows(inputs, torch.arange(start, min(start + batch_size, count)), device)
        with _recording(layers) as seen, torch.enable_grad() if target is not None else torch.no_grad():
            raw = call_model(model, chunk)
            _check_seen(layers, seen)
            if target is not None:
                values = read_output(raw, output or "logits")
                if values.dim() != 2 or not 0 <= target < values.shape[1]:
                    raise InvalidInputError(f"target {target} does not index the model's output of shape {tuple(values.shape)}")
                grads = torch.autograd.grad(values[:, target].sum(), [seen[name] for name, _ in layers], allow_unused=True)
                found = {name: torch.zeros_like(seen[name]) if g is None else g for (name, _), g in zip(layers, grads)}
            else:
                found = dict(seen)
        for name, _ in layers:
            parts[name].append(pooled(pool, found[name].detach(), chunk))
    return {name: torch.cat(values) for name, values in parts.items()}
