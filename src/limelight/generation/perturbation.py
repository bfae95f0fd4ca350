"""The perturbation family on prompt features, every generated token scored from one forward per perturbed prompt.

The engine's methods (:class:`~limelight.engine.FeatureAblation`, :class:`~limelight.engine.ShapleyValues`,
:class:`~limelight.engine.ShapleyValueSampling`, :class:`~limelight.engine.KernelShap`,
:class:`~limelight.engine.Lime`) run unchanged on the prompt's token ids, with the features as their
feature mask and the erasure (:mod:`limelight.generation.erasure`) as their baseline. Their forward is
*multi-output*: a perturbed prompt is teacher-forced with the whole target once and gives the values
of all ``T`` generated tokens, which are remembered; the method then runs once per generated token
(``target=t``) with the same seed, so the same coalitions are asked for and every later run is
answered from memory. So each perturbed prompt costs one forward whatever ``T``, and the numbers are
exactly the engine method's for each token. Each prompt is explained on its own (its coalitions in
one batched evaluation), so a prompt's result never depends on the other prompts of a call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from limelight.engine import FeatureAblation, KernelShap, Lime, ShapleyValues, ShapleyValueSampling
from limelight.engine.evidence import BatchEvidence, Evidence
from limelight.engine.result import PerturbationExtras
from limelight.engine.validation import resolve_seed

from .erasure import compact
from .quantity import Quantity
from .runner import GenerationRunner

PERTURBATION_METHODS: dict[str, Any] = {  # name -> engine class; each has attribute(inputs, baselines, target, ...)
    "feature_ablation": FeatureAblation,
    "shapley_values": ShapleyValues,
    "shapley_value_sampling": ShapleyValueSampling,
    "kernel_shap": KernelShap,
    "lime": Lime,
}
SAMPLED = ("shapley_value_sampling", "kernel_shap", "lime")
_ALL_ROWS = 1 << 30  # the engine hands every coalition to the forward at once; the runner chunks by memory


@dataclass(frozen=True)
class FeatureScores:
    """Scores ``(T, n_features)`` (float64) of one prompt's features, the values explained, the evidence per row, the forwards run, the options used (the seed drawn)."""

    scores: Tensor
    values: Tensor
    evidence: BatchEvidence
    evaluations: int
    options: dict[str, Any]


class _Scored:
    """The multi-output forward: perturbed id rows -> ``(rows, T)`` values, each distinct prompt run once."""

    def __init__(self, runner: GenerationRunner, targets: Tensor, alternatives: Tensor | None, quantity: Quantity) -> None:
        self.runner, self.targets, self.alternatives, self.quantity = runner, targets, alternatives, quantity
        self.memory: dict[tuple[int, ...], Tensor] = {}

    @property
    def forwards(self) -> int:
        return len(self.memory)

    def __call__(self, ids: Tensor) -> Tensor:
        prompts = [tuple(compact(row)) for row in ids]
        missing = list(dict.fromkeys(p for p in prompts if p not in self.memory))
        if missing:
            rows = len(missing)
            alternatives = None if self.alternatives is None else self.alternatives.expand(rows, -1)
            values = self.runner.score(missing, self.targets.expand(rows, -1), self.quantity, alternatives)
            self.memory.update(zip(missing, values))
        return torch.stack([self.memory[p] for p in prompts])


def feature_scores(
    runner: GenerationRunner,
    prompt_ids: tuple[int, ...],
    feature_mask: Tensor,
    targets: Tensor,
    alternatives: Tensor | None,
    quantity: Quantity,
    method: str,
    replacement: int,
    options: Mapping[str, Any],
) -> FeatureScores:
    """One prompt's feature scores for every generated token (``replacement``: a token id or :data:`~limelight.generation.erasure.DELETED`)."""
    ids = torch.tensor([prompt_ids], dtype=torch.long)
    baselines = torch.where(feature_mask[None] >= 0, torch.full_like(ids, replacement), ids)
    forward = _Scored(runner, targets[None], None if alternatives is None else alternatives[None], quantity)
    engine = PERTURBATION_METHODS[method](forward, check_forward=False)
    given = dict(options)
    if method in SAMPLED:
        given["seed"] = resolve_seed(given.get("seed"))
    rows: list[Tensor] = []
    deltas: list[float] = []
    for t in range(targets.shape[0]):
        result = engine.attribute(ids, baselines, t, feature_mask=feature_mask[None], internal_batch_size=_ALL_ROWS, **given)
        if not isinstance(result.extras, PerturbationExtras):
            raise TypeError(f"{method} returned no feature scores")  # the engine's contract: every perturbation result has them
        rows.append(result.extras.feature_scores[0, : int(feature_mask.max()) + 1].to(torch.float64))
        if result.evidence.delta is not None:
            deltas.append(float(result.evidence.delta[0]))
    values = forward(ids)[0]
    delta = torch.tensor(deltas, dtype=torch.float64) if len(deltas) == targets.shape[0] else None
    return FeatureScores(torch.stack(rows), values, Evidence(delta=delta, input_value=values), forward.forwards, given)
