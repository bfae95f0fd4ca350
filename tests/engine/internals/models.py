"""Tiny random models for the layer and neuron method tests (built here, no weights)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def mlp(seed: int = 0) -> nn.Sequential:
    """6 -> 8 -> 8 -> 3 with tanh: layers 1 and 3 (the activations) are cuts of the network."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 3)).eval()


def linear_head(seed: int = 0) -> nn.Sequential:
    """6 -> 8 (tanh) -> 3 linear: the gradient at the tanh output does not depend on the input."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).eval()


class CNN(nn.Module):
    """(N, 2, 6, 6) images -> conv -> ReLU -> conv -> mean pool -> 3 classes."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1, self.relu = nn.Conv2d(2, 4, 3), nn.Softplus()
        self.conv2 = nn.Conv2d(4, 4, 3)
        self.head = nn.Linear(4, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(torch.tanh(self.conv2(self.relu(self.conv1(x)))).mean((2, 3)))


class TwoBranches(nn.Module):
    """Two parallel layers (``a``, ``b``) of the same input joined by a head: a list of layers for LIG."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.a, self.b, self.head = nn.Linear(6, 4), nn.Linear(6, 4), nn.Linear(8, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(torch.tanh(torch.cat([self.a(x), self.b(x)], 1)))


def inputs(n: int = 4, seed: int = 1) -> tuple[Tensor, Tensor]:
    """Inputs and baselines for the 6-feature models."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 6, generator=generator), 0.1 * torch.randn(n, 6, generator=generator)
