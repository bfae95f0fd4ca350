"""Small networks with known propagation results, shared by the propagation tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class TwoLayer(nn.Module):
    """``w2 . relu(W1 x)`` without biases: DeepLift's and LRP-0's closed forms are a few lines."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(3, 4, bias=False)
        self.first.weight.data = torch.tensor([[1.0, -1.0, 0.0], [0.0, 2.0, 1.0], [-1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
        self.relu = nn.ReLU()
        self.second = nn.Linear(4, 2, bias=False)
        self.second.weight.data = torch.tensor([[2.0, -3.0, 1.0, -1.0], [1.0, 1.0, -1.0, 0.5]])

    def forward(self, x: Tensor) -> Tensor:
        return self.second(self.relu(self.first(x)))


class MLP(nn.Module):
    """Linear layers with biases and a mix of activations (module and functional)."""

    def __init__(self, bias: bool = True, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc1, self.act1 = nn.Linear(6, 8, bias=bias), nn.Tanh()
        self.fc2, self.act2 = nn.Linear(8, 8, bias=bias), nn.ReLU()
        self.fc3 = nn.Linear(8, 3, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


class SmoothMLP(MLP):
    """Functional sigmoid, SiLU and GELU and a gated product: every rule of DeepLift on one small net."""

    def forward(self, x: Tensor) -> Tensor:
        h = torch.sigmoid(self.fc1(x))
        gated = F.silu(self.fc2(h)) * F.gelu(self.fc2(h))  # the same module twice, and a product
        return self.fc3(gated)


class ModuleCNN(nn.Module):
    """conv -> ReLU -> conv -> ReLU -> average pool -> linear, all as modules (Captum's LRP needs that)."""

    def __init__(self, bias: bool = True, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv1, self.relu1 = nn.Conv2d(3, 5, 3, padding=1, bias=bias), nn.ReLU()
        self.conv2, self.relu2 = nn.Conv2d(5, 6, 3, padding=1, bias=bias), nn.ReLU()
        self.pool, self.fc = nn.AvgPool2d(8), nn.Linear(6, 4, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x))))).flatten(1))


class MaxPoolCNN(ModuleCNN):
    """:class:`ModuleCNN` with max pooling, which DeepLift has no rule for."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = nn.MaxPool2d(8)  # type: ignore[assignment]


class TinyRMSNorm(nn.Module):
    """A norm written out of elementary operations, as Llama's is."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size) + 0.1 * torch.randn(size))

    def forward(self, h: Tensor) -> Tensor:
        return self.weight * (h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6))


class Normalising(nn.Module):
    """Embeddings -> LayerNorm -> attention-like softmax product -> a hand-written RMSNorm -> linear."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.norm = nn.LayerNorm(8)
        self.query, self.key, self.value = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
        self.rms, self.out = TinyRMSNorm(8), nn.Linear(8, 2)

    def forward(self, x: Tensor) -> Tensor:
        h = self.norm(x)
        scores = self.query(h) @ self.key(h).transpose(-1, -2) / 8**0.5
        h = h + scores.softmax(-1) @ self.value(h)
        h = self.rms(h)
        return self.out(h.mean(1))
