"""Adaptive trapezoid panels for ``n_steps="auto"``: refine the path only where it is wrong.

Every evaluated node gives both the gradient ``g(a)`` and the value ``f(a)`` of the explained
output. So each panel ``[a, c]`` knows its own completeness error exactly:
``r = (c - a) / 2 * (s(a) + s(c)) - (f(c) - f(a))`` with ``s = g . (x - b)``, and the example's
delta is the sum of its panels' errors (the ``f`` terms telescope to ``f(x) - f(b)``). Each round
bisects, for every example not yet within tolerance, the panels whose error exceeds their
width's share of the budget; all new midpoints of all examples go through the model together.
The integrand of a neural network is often sharply peaked, so this spends nodes where the peak
is instead of doubling a uniform grid.

Bisecting changes the weights of a panel's endpoints, so each example keeps the gradient of
each of its nodes until it converges (memory: nodes x size of the attributed tensors).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import torch
from torch import Tensor

from ..convergence import ABSOLUTE_TOLERANCE
from ..spaces import Points
from .method import Call
from .paths import path_plan, scale


@dataclass
class _Path:
    """One example's nodes in increasing alpha, with ``f``, the slope ``s`` and the gradient at each."""

    alphas: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    slopes: list[float] = field(default_factory=list)
    grads: list[tuple[Tensor, ...]] = field(default_factory=list)

    def add(self, alpha: float, value: float, slope: float, grad: tuple[Tensor, ...]) -> None:
        position = sum(a < alpha for a in self.alphas)
        self.alphas.insert(position, alpha)
        self.values.insert(position, value)
        self.slopes.insert(position, slope)
        self.grads.insert(position, grad)

    def residuals(self) -> list[float]:
        """Each panel's trapezoid estimate of ``f(c) - f(a)`` minus the truth."""
        a, f, s = self.alphas, self.values, self.slopes
        return [(a[i + 1] - a[i]) / 2 * (s[i] + s[i + 1]) - (f[i + 1] - f[i]) for i in range(len(a) - 1)]

    def budget(self, tolerance: float) -> float:
        return tolerance * abs(self.values[-1] - self.values[0]) + ABSOLUTE_TOLERANCE

    def midpoints_to_add(self, tolerance: float, room: int) -> list[float]:
        """Midpoints of the panels over their width's share of the budget (the worst first), at most ``room``."""
        residuals, budget = self.residuals(), self.budget(tolerance)
        order = sorted(range(len(residuals)), key=lambda i: -abs(residuals[i]))
        chosen = [i for i in order if abs(residuals[i]) > budget * (self.alphas[i + 1] - self.alphas[i])] or order[:1]
        return [(self.alphas[i] + self.alphas[i + 1]) / 2 for i in chosen[:room]]

    def mean_gradient(self) -> tuple[Tensor, ...]:
        """The trapezoid rule over the current panels: ``sum_j w_j g_j`` with ``w_j`` half the width of its two panels."""
        a = self.alphas
        weights = [((a[j + 1] if j + 1 < len(a) else a[j]) - (a[j - 1] if j > 0 else a[j])) / 2 for j in range(len(a))]
        return tuple(cast(Tensor, sum(w * g[i].to(torch.float64) for w, g in zip(weights, self.grads))) for i in range(len(self.grads[0])))


@dataclass(frozen=True)
class Adaptive:
    """The outcome per example: attributions, ``f(x)``, ``f(b)``, nodes used, and whether it converged."""

    attributions: tuple[Tensor, ...]
    input_value: Tensor
    baseline_value: Tensor
    n_steps: Tensor
    converged: Tensor
    alphas: list[list[float]]


def integrate(call: Call, x: Points, b: Points, chunk: int, tolerance: float, min_steps: int, max_steps: int) -> Adaptive:
    """Refine every example's panels until ``|delta| <= tolerance * |f(x) - f(b)| + 1e-4`` or ``max_steps`` nodes."""
    count = call.n_examples
    paths = [_Path() for _ in range(count)]
    start = torch.linspace(0.0, 1.0, max(min_steps, 2), dtype=torch.float64).tolist()
    pending = [(e, a) for e in range(count) for a in start]
    converged = torch.zeros(count, dtype=torch.bool)
    while pending:
        _evaluate(call, x, b, chunk, pending, paths)
        pending = []
        for e, path in enumerate(paths):
            if converged[e] or len(path.alphas) >= max_steps and not _within(path, tolerance):
                continue
            if _within(path, tolerance):
                converged[e] = True
                continue
            pending += [(e, a) for a in path.midpoints_to_add(tolerance, max_steps - len(path.alphas))]
    mean = [path.mean_gradient() for path in paths]
    attributions = scale(x, b, tuple(torch.stack([m[i] for m in mean]) for i in range(len(x))))
    return Adaptive(
        attributions,
        torch.tensor([p.values[-1] for p in paths], dtype=torch.float64),
        torch.tensor([p.values[0] for p in paths], dtype=torch.float64),
        torch.tensor([len(p.alphas) for p in paths]),
        converged,
        [p.alphas for p in paths],
    )


def _within(path: _Path, tolerance: float) -> bool:
    return abs(sum(path.residuals())) <= path.budget(tolerance)


def _evaluate(call: Call, x: Points, b: Points, chunk: int, nodes: list[tuple[int, float]], paths: list[_Path]) -> None:
    """Evaluate (example, alpha) nodes in chunks and add each one's value, slope and gradient to its path."""
    examples = torch.tensor([e for e, _ in nodes])
    alphas = torch.tensor([a for _, a in nodes], dtype=torch.float64)
    rows = torch.arange(len(nodes))
    accumulated = call.run(path_plan(x, b, examples, alphas, torch.ones(len(nodes), dtype=torch.float64), rows, len(nodes)), chunk)
    differences = [(xi - bi).to(torch.float64) for xi, bi in zip(x, b)]
    for row, (e, a) in enumerate(nodes):
        grad = tuple(s[row].to(xi.dtype) for s, xi in zip(accumulated.gradient_sums, x))
        slope = float(sum((d[e] * s[row]).sum() for d, s in zip(differences, accumulated.gradient_sums)))
        paths[e].add(a, float(accumulated.values[row]), slope, grad)
