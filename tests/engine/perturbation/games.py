"""Cooperative games as forwards, and a definitional Shapley oracle for the perturbation tests.

With inputs of ones and a zero baseline, a perturbed row *is* the coalition's indicator vector,
so a forward ``f(z)`` over ``(rows, F)`` 0/1 inputs is the game ``v(S)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

Game = Callable[[Tensor], Tensor]


def pairwise(z: Tensor) -> Tensor:
    """``v = 2 z0 - z2 + z0 z1 + 3 z2 z3``: Shapley ``(2.5, 0.5, 0.5, 1.5, 0)``; feature 4 is a dummy."""
    return 2 * z[:, 0] - z[:, 2] + z[:, 0] * z[:, 1] + 3 * z[:, 2] * z[:, 3]


PAIRWISE_SHAPLEY = torch.tensor([2.5, 0.5, 0.5, 1.5, 0.0], dtype=torch.float64)


def nonlinear(z: Tensor) -> Tensor:
    """A game with interactions of every order (no closed form)."""
    weights = torch.tensor([0.7, -1.3, 2.0, 0.4, -0.8, 1.1], dtype=z.dtype)[: z.shape[1]]
    return torch.tanh(z @ weights) * (1 + z[:, 0] * z[:, -1]) + torch.sin(3 * z[:, 1] * z[:, 2])


def shapley_by_permutations(game: Game, n_features: int) -> Tensor:
    """Shapley values from the definition: the mean marginal contribution over all ``F!`` orders."""
    total = torch.zeros(n_features, dtype=torch.float64)
    for order in itertools.permutations(range(n_features)):
        coalition = torch.zeros(1, n_features)
        before = game(coalition).double()
        for feature in order:
            coalition[0, feature] = 1
            after = game(coalition).double()
            total[feature] += (after - before).item()
            before = after
    return total / math.factorial(n_features)
