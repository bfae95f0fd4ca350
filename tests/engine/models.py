"""Small models with known attributions, shared by the engine tests."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Linear(nn.Module):
    """f(x) = x @ W + c: IG is (x - b) * W[:, k] exactly, Saliency |W[:, k]|."""

    def __init__(self, features: int = 5, classes: int = 3, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(features, classes, generator=generator))
        self.bias = nn.Parameter(torch.randn(classes, generator=generator))

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias


class MLP(nn.Module):
    """A smooth nonlinear model (tanh), so quadrature has something to do."""

    def __init__(self, features: int = 6, classes: int = 3, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(features, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class TokenModel(nn.Module):
    """Token ids -> embedding -> masked mean -> tanh MLP: a text-classifier in miniature."""

    def __init__(self, vocab: int = 20, dim: int = 8, classes: int = 2, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Embedding(vocab, dim)
        self.head = nn.Sequential(nn.Linear(dim, 16), nn.Tanh(), nn.Linear(16, classes))

    def forward(self, ids: Tensor, mask: Tensor | None = None) -> Tensor:
        hidden = self.embedding(ids)
        if mask is None:
            mask = torch.ones_like(ids)
        weights = mask.unsqueeze(-1).to(hidden.dtype)
        return self.head((hidden * weights).sum(1) / weights.sum(1))
