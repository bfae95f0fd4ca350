"""Concept activation vectors: the normal of a linear boundary between a concept's activations and random ones.

The classifier is L2-regularised logistic regression fitted with L-BFGS in torch, on the device
and in the dtype the activations already have (no copy of large activations to a CPU library).
Activations are centred and divided by one overall scale before fitting, which changes no
direction; the classes are weighted equally whatever their sizes. A seeded quarter of each class
is held out to measure how separable the concept is (``accuracy``); the CAV is fitted on the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ...errors import InvalidInputError

HELD_OUT = 0.25
"""Share of each class held out to measure the CAV's accuracy."""


@dataclass(frozen=True)
class CAV:
    """A unit concept direction in a layer's (pooled) activation space and its held-out accuracy."""

    vector: Tensor
    accuracy: float


def _split(count: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Training and held-out indices of one class (nothing held out from a class of fewer than 4)."""
    order = torch.randperm(count, generator=generator)
    held = int(count * HELD_OUT) if count >= 4 else 0
    return order[held:], order[:held]


def fit_cav(concept: Tensor, others: Tensor, generator: torch.Generator, l2: float = 1e-2, max_iter: int = 200) -> CAV:
    """The CAV separating ``concept`` rows ``(n, D)`` from ``others`` rows ``(m, D)`` (pointing towards the concept)."""
    if concept.dim() != 2 or others.dim() != 2 or concept.shape[1] != others.shape[1]:
        raise InvalidInputError(
            f"concept activations {tuple(concept.shape)} and random activations {tuple(others.shape)} must be (rows, features) alike"
        )
    train_c, test_c = _split(concept.shape[0], generator)
    train_o, test_o = _split(others.shape[0], generator)
    dtype = torch.promote_types(concept.dtype, torch.float32)
    x = torch.cat([concept[train_c.to(concept.device)], others[train_o.to(others.device)]]).to(dtype)
    y = torch.cat([torch.ones(len(train_c)), torch.zeros(len(train_o))]).to(x)
    weight = torch.where(y > 0, 0.5 / len(train_c), 0.5 / len(train_o))
    center = x.mean(0)
    spread = (x - center).pow(2).mean().sqrt().clamp_min(torch.finfo(dtype).tiny)
    z = (x - center) / spread
    w = torch.zeros(x.shape[1], dtype=dtype, device=x.device, requires_grad=True)
    b = torch.zeros((), dtype=dtype, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe", tolerance_grad=1e-9)

    def loss() -> Tensor:
        optimizer.zero_grad()
        logits = z @ w + b
        cross_entropy = torch.nn.functional.softplus(logits) - y * logits
        value = (weight * cross_entropy).sum() + 0.5 * l2 * w.pow(2).sum()
        value.backward()
        return value

    with torch.enable_grad():
        optimizer.step(loss)
    direction = w.detach()
    norm = direction.norm()
    if not torch.isfinite(norm) or norm == 0:
        raise InvalidInputError("the concept's activations cannot be told from the random ones at this layer (identical examples?)")
    accuracy = _accuracy(direction, b.detach(), center, spread, concept[test_c.to(concept.device)], others[test_o.to(others.device)])
    return CAV(direction / norm, accuracy)


def _accuracy(w: Tensor, b: Tensor, center: Tensor, spread: Tensor, concept: Tensor, others: Tensor) -> float:
    """Balanced accuracy on the held-out rows (NaN when nothing was held out)."""
    if len(concept) == 0 or len(others) == 0:
        return float("nan")
    hits = [((((rows.to(w) - center) / spread) @ w + b > 0) == label).double().mean() for rows, label in ((concept, True), (others, False))]
    return float(sum(hits) / 2)
