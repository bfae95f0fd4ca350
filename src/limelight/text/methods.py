"""Gradient methods as the text front end uses them: built at the word-embedding layer.

Each entry says how to build the engine method and how to turn attributions of shape
``(rows, tokens, hidden)`` into one score per token: ``"sum"`` over the hidden dimension keeps an
additive method additive (completeness carries over to tokens and words); ``"l2"`` gives the
size of an unsigned gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ..engine import InputXGradient, LayerIntegratedGradients, NoiseTunnel, Saliency
from ..errors import InvalidInputError


@dataclass(frozen=True)
class TextMethod:
    """How one method is built at the embedding layer and reduced to token scores."""

    build: Callable[[Callable[..., Any], nn.Module, Any], Any]
    reduce: str
    defaults: dict[str, Any] = field(default_factory=dict)
    uses_baseline: bool = False

    def token_scores(self, attributions: Tensor) -> Tensor:
        """One score per token from ``(rows, tokens, hidden)`` attributions."""
        values = attributions.to(torch.float64)
        return values.sum(-1) if self.reduce == "sum" else values.norm(dim=-1)


GRADIENT_METHODS: dict[str, TextMethod] = {
    "integrated_gradients": TextMethod(
        lambda forward, layer, output: LayerIntegratedGradients(forward, layer, output=output),
        "sum", {"n_steps": "auto", "tolerance": 1e-2}, uses_baseline=True,
    ),
    "input_x_gradient": TextMethod(lambda forward, layer, output: InputXGradient(forward, layer, output=output), "sum"),
    "saliency": TextMethod(lambda forward, layer, output: Saliency(forward, layer, output=output), "l2", {"abs": False}),
    "smoothgrad": TextMethod(
        lambda forward, layer, output: NoiseTunnel(Saliency(forward, layer, output=output)),
        "l2", {"abs": False, "nt_samples": 20, "stdevs": 0.01, "seed": 0},
    ),
}


def gradient_method(name: str) -> TextMethod:
    """The text method called ``name``; the error lists what exists."""
    if name not in GRADIENT_METHODS:
        raise InvalidInputError(f"unknown method {name!r}; choose one of {sorted(GRADIENT_METHODS)}")
    return GRADIENT_METHODS[name]
