"""Per-example loss gradients of chosen layers, batched with ``torch.func`` (``functional_call`` + ``vmap(grad)``).

The loss of one example is ``loss_fn(model(x[None]), y[None])`` (summed if it is not a scalar, so a
``reduction="none"`` loss works as well as a mean). ``vmap`` runs that for every example of a
chunk at once, so each row's gradient is exactly its own: the chunk size changes speed, never a
result. Only the parameters of the chosen layers are differentiated; the rest are constants.
A model ``vmap`` cannot batch (data-dependent control flow, as in Hugging Face's attention-mask
helpers) gets the same ``grad`` one example at a time: the same values, more slowly.

Large layers can be compressed by a random projection (Johnson-Lindenstrauss): a parameter with more
than ``projection_dim`` elements has its gradient ``g`` replaced by ``R g`` with ``R`` a
``projection_dim x numel`` matrix of independent ``N(0, 1 / projection_dim)`` entries, drawn once
from ``seed`` and the parameter's position, and reused for every example and checkpoint. Then
``E[(R g) . (R g')] = g . g'``: dot products (TracIn scores) and squared norms (self-influence)
are unbiased estimates, with relative error about ``sqrt(2 / projection_dim)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from ..engine.forward import read_output
from ..engine.validation import check_optional_count, resolve_seed
from ..errors import InvalidInputError
from .data import Batch

LossFn = Callable[[Tensor, Tensor], Tensor]
"""``loss_fn(outputs, labels)`` for a batch of one example: its loss (a scalar, or values that sum to it)."""


def cross_entropy(outputs: Tensor, labels: Tensor) -> Tensor:
    """The default loss: cross-entropy of the logits against the class labels."""
    return nn.functional.cross_entropy(outputs, labels, reduction="sum")


def example_loss(loss_fn: LossFn, outputs: Tensor, labels: Tensor) -> Tensor:
    """One example's loss as a scalar (a non-scalar loss is summed)."""
    loss = loss_fn(outputs, labels)
    if not isinstance(loss, Tensor):
        raise InvalidInputError(f"loss_fn must return a tensor, got {type(loss).__name__}")
    return loss if loss.dim() == 0 else loss.sum()


def chosen_parameters(model: nn.Module, layers: Sequence[str] | None) -> list[str]:
    """Names of the parameters TracIn differentiates: those of the named modules (every trainable one by default)."""
    named = dict(model.named_parameters())
    if layers is None:
        return [name for name, p in named.items() if p.requires_grad]
    if isinstance(layers, str) or not layers:
        raise InvalidInputError("layers must be a non-empty list of module names (see model.named_modules()) or None")
    modules = dict(model.named_modules())
    unknown = [name for name in layers if name not in modules]
    if unknown:
        raise InvalidInputError(f"unknown layers {unknown}; the model's modules include {list(modules)[:12]}")
    out = [f"{layer}.{name}" if layer else name for layer in layers for name, _ in modules[layer].named_parameters()]
    if not out:
        raise InvalidInputError(f"the layers {list(layers)} have no parameters to differentiate")
    return list(dict.fromkeys(out))


class GradientSpace:
    """Flattened (and, for large parameters, projected) per-example gradients of the chosen parameters."""

    def __init__(
        self, model: nn.Module, layers: Sequence[str] | None, loss_fn: LossFn, projection_dim: int | None = None, seed: int | None = 0
    ) -> None:
        self.model, self.loss_fn = model, loss_fn
        self.names = chosen_parameters(model, layers)
        self.projection_dim = check_optional_count("projection_dim", projection_dim)
        self.seed = resolve_seed(seed)
        shapes = dict(model.named_parameters())
        self.numels = {name: shapes[name].numel() for name in self.names}
        self._projections: dict[str, Tensor] = {}
        self.vectorized = True
        """Whether ``vmap`` works for this model (it is switched off on the first data-dependent control flow)."""

    @property
    def dimension(self) -> int:
        """The length of one example's gradient vector (after projection)."""
        return sum(self._width(n) for n in self.names)

    def per_example(self, batch: Batch) -> Tensor:
        """A ``[len(batch), dimension]`` float64 tensor: each example's gradient at the model's current weights."""
        params = {name: p.detach() for name, p in self.model.named_parameters()}
        chosen = {name: params.pop(name) for name in self.names}
        constants: dict[str, Tensor] = {**params, **dict(self.model.named_buffers())}

        def loss(weights: Mapping[str, Tensor], args: tuple[Tensor, ...], kwargs: dict[str, Tensor], label: Tensor) -> Tensor:
            raw = functional_call(
                self.model, {**constants, **weights}, tuple(a[None] for a in args), {k: v[None] for k, v in kwargs.items()}
            )
            return example_loss(self.loss_fn, read_output(raw, "logits"), label[None])

        gradient = grad(loss)
        grads: dict[str, Tensor] | None = None
        if self.vectorized:
            try:
                grads = vmap(gradient, in_dims=(None, 0, 0, 0))(chosen, batch.args, batch.kwargs, batch.labels)
            except RuntimeError as error:
                if "vmap" not in str(error):
                    raise
                self.vectorized = False  # data-dependent control flow in the model: one example at a time from now on
        if grads is None:
            rows = [
                gradient(chosen, tuple(a[i] for a in batch.args), {k: v[i] for k, v in batch.kwargs.items()}, batch.labels[i])
                for i in range(len(batch))
            ]
            grads = {name: torch.stack([row[name] for row in rows]) for name in self.names}
        return torch.cat([self._compress(name, grads[name].reshape(len(batch), -1)) for name in self.names], dim=1)

    def settings(self) -> dict[str, Any]:
        """What the vectors are: parameters, sizes, projection."""
        return {
            "parameters": list(self.names),
            "n_parameters": sum(self.numels.values()),
            "dimension": self.dimension,
            "projection_dim": self.projection_dim,
            "projection_seed": self.seed if self.projection_dim is not None else None,
        }

    def _width(self, name: str) -> int:
        numel = self.numels[name]
        return self.projection_dim if self.projection_dim is not None and numel > self.projection_dim else numel

    def _compress(self, name: str, values: Tensor) -> Tensor:
        values = values.detach().to(torch.float64)
        if self._width(name) == self.numels[name]:
            return values
        if name not in self._projections:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.names.index(name))
            d = self._width(name)
            self._projections[name] = torch.randn((d, self.numels[name]), generator=generator, dtype=torch.float64) / d**0.5
        return values @ self._projections[name].to(values.device).T
