"""The gradient family at the embedding layer, for every generated token at once.

Integrated gradients, Saliency and Input x Gradient on the prompt's token embeddings (the output of
the model's input-embedding layer, i.e. Layer IG at that layer). A *row* is one prompt at one path
point ``b + alpha (x - b)`` (only attributable prompt tokens move; template tokens and the target
keep their embeddings). Each row is one teacher-forced forward of prompt + target; the ``T``
generated tokens' values then get their gradients from one batched vector-Jacobian product (a
one-hot cotangent per generated position, ``is_grads_batched``), never a forward per token.
Quadrature nodes and weights are the engine's, so the numbers are those of the engine's
:class:`~limelight.engine.gradient.IntegratedGradients` run once per generated token.

A token's score is the embedding-dimension sum of the method's per-element attribution: for IG
``(x - b) . mean gradient`` (the rows add up to ``f_t(x) - f_t(b)``, the completeness delta is
reported per row), for Input x Gradient ``x . gradient``, for Saliency ``|gradient|`` summed (L1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from limelight.engine.chunking import chunks
from limelight.engine.convergence import completeness_delta, warn_unconverged, within_tolerance
from limelight.engine.evidence import BatchEvidence, Evidence
from limelight.engine.gradient.quadrature import fixed_rule

from .quantity import Quantity
from .runner import GenerationRunner, Packed

GRADIENT_METHODS: tuple[str, ...] = ("integrated_gradients", "layer_integrated_gradients", "saliency", "input_x_gradient")


@dataclass(frozen=True)
class GradientJob:
    """One prompt to attribute: its ids, the indices of its attributable tokens, its target (and alternative) ids."""

    prompt_ids: tuple[int, ...]
    positions: tuple[int, ...]
    targets: Tensor
    alternatives: Tensor | None


@dataclass(frozen=True)
class TokenScores:
    """Scores ``(T, n_positions)`` (float64) of one prompt's attributable tokens, the values explained and the evidence per row."""

    scores: Tensor
    values: Tensor
    evidence: BatchEvidence


@dataclass(frozen=True)
class GradientSettings:
    """How the gradient family runs: ``n_steps`` nodes of ``rule`` for IG, the baseline token (``None``: zero embeddings)."""

    method: str
    n_steps: int = 50
    rule: str = "gausslegendre"
    baseline_id: int | None = None
    tolerance: float | None = 1e-2


Reduce = Callable[[Tensor, Tensor, Tensor], Tensor]
"""``(gradient, x, b) -> per-token score`` over the embedding dimension."""

_REDUCE: dict[str, Reduce] = {
    "integrated_gradients": lambda g, x, b: (g * (x - b)).sum(-1),
    "saliency": lambda g, x, b: g.abs().sum(-1),
    "input_x_gradient": lambda g, x, b: (g * x).sum(-1),
}


def gradient_scores(
    runner: GenerationRunner, jobs: Sequence[GradientJob], quantity: Quantity, settings: GradientSettings
) -> list[TokenScores]:
    """Every job's token scores for every generated token (see the module docstring)."""
    method = "integrated_gradients" if settings.method == "layer_integrated_gradients" else settings.method
    integrated = method == "integrated_gradients"
    if integrated:
        alphas_np, weights_np = fixed_rule(settings.rule, settings.n_steps)
    else:
        alphas_np, weights_np = np.ones(1), np.ones(1)
    n = len(alphas_np)
    examples = torch.arange(len(jobs)).repeat_interleave(n)
    alphas = torch.from_numpy(alphas_np).repeat(len(jobs))
    weights = torch.from_numpy(weights_np).repeat(len(jobs))
    path = _Path(runner, jobs, quantity, settings.baseline_id)
    sums = path.accumulate(examples, alphas, weights, _REDUCE[method])
    ends_at = (1.0, 0.0) if integrated else (1.0,)  # f(x), and f(b) for the completeness delta
    ends = path.values(
        torch.arange(len(jobs)).repeat(len(ends_at)), torch.tensor(ends_at, dtype=torch.float64).repeat_interleave(len(jobs))
    )
    results = []
    for e, job in enumerate(jobs):
        steps = job.targets.shape[0]
        scores = sums[e][:steps]
        fx = ends[e][:steps]
        if integrated:
            fb = ends[len(jobs) + e][:steps]
            delta = completeness_delta((scores,), fx - fb)
            converged = within_tolerance(delta, fx - fb, settings.tolerance) if settings.tolerance is not None else None
            evidence: BatchEvidence = Evidence(
                delta=delta,
                input_value=fx,
                baseline_value=fb,
                n_steps=torch.full((steps,), n),
                converged=converged,
                tolerance=settings.tolerance,
            )
            if converged is not None and settings.tolerance is not None:
                warn_unconverged(converged, delta, fx - fb, settings.tolerance, "Use more steps (n_steps=).", rows="generated tokens")
        else:
            evidence = Evidence(input_value=fx)
        results.append(TokenScores(scores, fx, evidence))
    return results


class _Path:
    """Rows of (prompt, path point) built chunk by chunk, evaluated with or without gradients."""

    def __init__(self, runner: GenerationRunner, jobs: Sequence[GradientJob], quantity: Quantity, baseline_id: int | None) -> None:
        self.runner, self.jobs, self.quantity, self.baseline_id = runner, jobs, quantity, baseline_id
        self.steps = max(job.targets.shape[0] for job in jobs)
        self.targets = torch.stack([_pad(job.targets, self.steps) for job in jobs])
        contrast = [job.alternatives for job in jobs]
        self.alternatives = None if contrast[0] is None else torch.stack([_pad(a, self.steps) for a in contrast if a is not None])
        self.valid = torch.stack([torch.arange(self.steps) < job.targets.shape[0] for job in jobs])
        self.offsets = torch.tensor([0, *np.cumsum([len(job.positions) for job in jobs]).tolist()])
        self.longest = max(len(job.prompt_ids) for job in jobs)

    def _embeds(self, examples: Tensor, alphas: Tensor, grad: bool) -> tuple[Packed, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """The chunk's packed rows, embeddings with the path points in place, and the moving points ``z`` with their x and b."""
        runner = self.runner
        ex = examples.tolist()
        packed = runner.pack(
            [self.jobs[e].prompt_ids for e in ex],
            self.targets[examples],
            None if self.alternatives is None else self.alternatives[examples],
        )
        rows = torch.cat([torch.full((len(self.jobs[e].positions),), r, dtype=torch.long) for r, e in enumerate(ex)])
        columns = torch.cat(
            [packed.prompt_columns - len(self.jobs[e].prompt_ids) + torch.tensor(self.jobs[e].positions, dtype=torch.long) for e in ex]
        )
        flat = torch.cat([self.offsets[e] + torch.arange(len(self.jobs[e].positions)) for e in ex])
        rows_d, columns_d = rows.to(runner.device), columns.to(runner.device)
        with torch.no_grad():
            base = runner.embedding(packed.input_ids)
            x = base[rows_d, columns_d]
            b = torch.zeros_like(x) if self.baseline_id is None else runner.embedding(torch.full_like(rows_d, self.baseline_id))
        a = alphas.to(device=runner.device, dtype=x.dtype)[rows_d].unsqueeze(-1)
        z = (b + a * (x - b)).detach().requires_grad_(grad)
        embeds = base.index_put((rows_d, columns_d), z)
        return packed, embeds, z, x, b, flat

    def accumulate(self, examples: Tensor, alphas: Tensor, weights: Tensor, reduce: Reduce) -> list[Tensor]:
        """Per example ``(T, n_positions)`` float64 sums of ``weight * reduce(gradient of value t)``."""
        total = torch.zeros((self.steps, int(self.offsets[-1])), dtype=torch.float64)
        size = self.runner.chunk_rows(self.longest, self.steps, grad=True)
        for chunk in chunks(examples.shape[0], size):
            ex = examples[chunk]
            packed, embeds, z, x, b, flat = self._embeds(ex, alphas[chunk], grad=True)
            with torch.enable_grad():
                out = self.runner.values(packed, self.quantity, embeds)
                cotangents = (torch.eye(self.steps, device=out.device)[:, None, :] * self.valid[ex].to(out.device).T[:, :, None]).to(
                    out.dtype
                )
                (grads,) = torch.autograd.grad(out, z, grad_outputs=cotangents, is_grads_batched=True)
            row_weights = weights[chunk].to(torch.float64)[_rows_of(ex, self.jobs)]
            contributions = reduce(grads.double(), x.double(), b.double()).cpu() * row_weights
            total.index_add_(1, flat, contributions)
        split = self.offsets.tolist()
        return [total[:, split[e] : split[e + 1]] for e in range(len(self.jobs))]

    def values(self, examples: Tensor, alphas: Tensor) -> Tensor:
        """``(rows, T)`` float64 values at the given path points, without gradients."""
        out: list[Tensor] = []
        size = self.runner.chunk_rows(self.longest, self.steps, grad=False)
        for chunk in chunks(examples.shape[0], size):
            with torch.inference_mode():
                packed, embeds, *_ = self._embeds(examples[chunk], alphas[chunk], grad=False)
                out.append(self.runner.values(packed, self.quantity, embeds).double().cpu())
        return torch.cat(out)


def _rows_of(examples: Tensor, jobs: Sequence[GradientJob]) -> Tensor:
    """The chunk row of every moving token, in the order ``_embeds`` lays them out."""
    return torch.cat([torch.full((len(jobs[int(e)].positions),), r, dtype=torch.long) for r, e in enumerate(examples.tolist())])


def _pad(ids: Tensor, steps: int) -> Tensor:
    return torch.nn.functional.pad(ids, (0, steps - ids.shape[0]))
