"""The perturbation family on prompt features, every generated token scored from one forward per perturbed prompt.

The engine's methods (:class:`~limelight.engine.FeatureAblation`, :class:`~limelight.engine.ShapleyValues`,
:class:`~limelight.engine.ShapleyValueSampling`, :class:`~limelight.engine.KernelShap`,
:class:`~limelight.engine.Lime`) run unchanged on the prompt's token ids, with the features as their
feature mask and the erasure (:mod:`limelight.generation.erasure`) as their baseline. Their forward is
*multi-output*: a perturbed prompt is teacher-forced with the whole target once and gives the values
of all ``T`` generated tokens, which are remembered; the method then runs once per generated token
(``target=t``) with the same seed, so the same coalitions are asked for and every later run is
answered from memory. So each perturbed prompt costs one forward whatever ``T``, and the numbers are
exactly the engine method's for each token. The perturbed prompts of all prompts of a call are
scored in shared forwards (rows of different prompts in one chunk), each reusing the key/value
cache of the prefix it shares with its own unperturbed prompt (:mod:`~limelight.generation.prefix_cache`);
a prompt's result does not depend on the other prompts of the call.
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
from .prefix_cache import Row
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
class PerturbationJob:
    """One prompt to explain: its token ids, feature mask ``(L,)`` (-1: in no feature), target ids ``(T,)``, contrast ids or None."""

    prompt_ids: tuple[int, ...]
    feature_mask: Tensor
    targets: Tensor
    alternatives: Tensor | None


@dataclass(frozen=True)
class FeatureScores:
    """Scores ``(T, n_features)`` (float64) of one prompt's features, the values explained, the evidence per row, the forwards run, the options used (the seed drawn)."""

    scores: Tensor
    values: Tensor
    evidence: BatchEvidence
    evaluations: int
    options: dict[str, Any]


class _Scored:
    """The multi-output forward of one prompt: perturbed id rows -> ``(rows, T)`` values, each distinct prompt run once.

    While ``recording`` is a list, the prompts asked for are appended to it and answered with zeros,
    so the coalitions of many prompts can be collected first and scored in shared forwards.
    """

    def __init__(self, runner: GenerationRunner, job: PerturbationJob, quantity: Quantity) -> None:
        self.runner, self.job, self.quantity = runner, job, quantity
        self.memory: dict[tuple[int, ...], Tensor] = {}
        self.recording: list[tuple[int, ...]] | None = None

    @property
    def forwards(self) -> int:
        return len(self.memory)

    def rows(self, prompts: list[tuple[int, ...]]) -> list[Row]:
        """The runner's rows for these perturbed prompts, all sharing this prompt's prefix cache."""
        target = tuple(self.job.targets.tolist())
        alternative = None if self.job.alternatives is None else tuple(self.job.alternatives.tolist())
        return [Row(p, target, alternative, self.job.prompt_ids) for p in prompts]

    def __call__(self, ids: Tensor) -> Tensor:
        prompts = [self.runner.prompt(compact(row)) for row in ids]
        missing = list(dict.fromkeys(p for p in prompts if p not in self.memory))
        if self.recording is not None:
            self.recording.extend(missing)
            return torch.zeros((len(prompts), self.job.targets.shape[0]), dtype=torch.float64)
        if missing:
            self.memory.update(zip(missing, self.runner.score_rows(self.rows(missing), self.quantity)))
        return torch.stack([self.memory[p] for p in prompts])


def feature_scores(
    runner: GenerationRunner,
    jobs: list[PerturbationJob],
    quantity: Quantity,
    method: str,
    replacement: int,
    options: Mapping[str, Any],
) -> list[FeatureScores]:
    """Each prompt's feature scores for every generated token (``replacement``: a token id or :data:`~limelight.generation.erasure.DELETED`).

    With several prompts, every prompt's coalitions are first collected (the method run against a
    recording forward) and scored together, rows of all prompts in shared chunks; the methods then
    run on remembered values, so each prompt's numbers are those it gets alone.
    """
    forwards = [_Scored(runner, job, quantity) for job in jobs]
    given = [dict(options) for _ in jobs]
    if method in SAMPLED:
        for g in given:
            g["seed"] = resolve_seed(g.get("seed"))
    if len(jobs) > 1:
        for job, forward, g in zip(jobs, forwards, given):
            forward.recording = []
            _attribute(forward, job, method, replacement, 0, g)
        rows = [row for forward in forwards for row in forward.rows(list(dict.fromkeys(forward.recording or [])))]
        values = iter(runner.score_rows(rows, quantity))
        for forward in forwards:
            wanted, forward.recording = list(dict.fromkeys(forward.recording or [])), None
            forward.memory.update((p, next(values)) for p in wanted)
    return [_scores(forward, job, method, replacement, g) for job, forward, g in zip(jobs, forwards, given)]


def _attribute(forward: _Scored, job: PerturbationJob, method: str, replacement: int, t: int, options: dict[str, Any]) -> Any:
    """The engine method's result for generated token ``t`` of one prompt."""
    ids = torch.tensor([job.prompt_ids], dtype=torch.long)
    mask = job.feature_mask[None]
    baselines = torch.where(mask >= 0, torch.full_like(ids, replacement), ids)
    engine = PERTURBATION_METHODS[method](forward, check_forward=False)
    return engine.attribute(ids, baselines, t, feature_mask=mask, internal_batch_size=_ALL_ROWS, **options)


def _scores(forward: _Scored, job: PerturbationJob, method: str, replacement: int, options: dict[str, Any]) -> FeatureScores:
    rows: list[Tensor] = []
    deltas: list[float] = []
    steps = job.targets.shape[0]
    for t in range(steps):
        result = _attribute(forward, job, method, replacement, t, options)
        if not isinstance(result.extras, PerturbationExtras):
            raise TypeError(f"{method} returned no feature scores")  # the engine's contract: every perturbation result has them
        rows.append(result.extras.feature_scores[0, : int(job.feature_mask.max()) + 1].to(torch.float64))
        if result.evidence.delta is not None:
            deltas.append(float(result.evidence.delta[0]))
    values = forward(torch.tensor([job.prompt_ids], dtype=torch.long))[0]
    delta = torch.tensor(deltas, dtype=torch.float64) if len(deltas) == steps else None
    return FeatureScores(torch.stack(rows), values, Evidence(delta=delta, input_value=values), forward.forwards, options)
