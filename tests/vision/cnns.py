"""Tiny CNNs built in the tests: plain, with a reused ReLU module, with functional and in-place activations."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TinyCNN(nn.Module):
    """conv -> ReLU -> conv -> ReLU -> mean pool -> linear, on (N, 3, 8, 8) images; ``classes`` logits."""

    def __init__(self, channels: int = 3, classes: int = 4, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1 = nn.Conv2d(channels, 5, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(5, 6, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.fc = nn.Linear(6, classes)

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


class ReusedReLU(TinyCNN):
    """:class:`TinyCNN` with one ReLU module run twice per forward (as EfficientNet's blocks do)."""

    def forward(self, x: Tensor) -> Tensor:
        h = self.relu1(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(h.mean((2, 3)))


class Functional(TinyCNN):
    """:class:`TinyCNN` with functional, method and in-place rectifiers instead of modules."""

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.conv1(x), inplace=True)
        h = self.conv2(h).clamp(min=0)
        return self.fc(h.mean((2, 3)))
