"""Which generation explanation to trust: comprehensiveness and sufficiency on prompt features, with intervals.

For each prompt and method, features are ranked by the method's sequence scores (the attribution
of the whole continuation); for each fraction ``q`` of :data:`~limelight.evaluation.faithfulness.ERASER_FRACTIONS`
the top ``ceil(q n)`` features are removed (comprehensiveness: how much the target's
log-probability drops, higher is better) or kept alone (sufficiency: how much it drops with only
them, lower is better), and the drops are averaged over the fractions (AOPC; DeYoung et al., 2020).
Removal is the generation front end's erasure (deletion by default), through its runner
(:meth:`~limelight.generation.GenerationExplainer.erased_values`). Means over prompts carry paired
bootstrap intervals (one resample matrix for every method), from :mod:`limelight.evaluation.bootstrap`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from limelight.engine.validation import check_count
from limelight.errors import InvalidInputError
from limelight.evaluation.bootstrap import Estimate, estimate, resample_indices
from limelight.evaluation.faithfulness import ERASER_FRACTIONS
from limelight.evaluation.ranking import rank_order, top_count
from limelight.generation import GenerationExplainer, GenerationExplanation
from limelight.generation.prompts import PromptSpec

DEFAULT_GENERATION_METHODS: tuple[str, ...] = ("integrated_gradients", "input_x_gradient", "feature_ablation", "kernel_shap")
METRICS: tuple[str, ...] = ("comprehensiveness", "sufficiency")


@dataclass(frozen=True)
class GenerationComparison:
    """Per method, the mean comprehensiveness and sufficiency over prompts with bootstrap intervals, and the per-prompt values."""

    methods: list[str]
    estimates: dict[str, dict[str, Estimate]]
    per_prompt: dict[str, dict[str, np.ndarray]]
    explanations: dict[str, list[GenerationExplanation]] = field(repr=False)
    settings: dict[str, Any] = field(default_factory=dict)

    def best(self, metric: str = "comprehensiveness") -> str:
        """The method with the best mean on ``metric`` (highest comprehensiveness, lowest sufficiency)."""
        if metric not in METRICS:
            raise InvalidInputError(f"metric must be one of {list(METRICS)}, got {metric!r}")
        sign = 1.0 if metric == "comprehensiveness" else -1.0
        return max(self.methods, key=lambda m: sign * self.estimates[m][metric].mean)

    def to_markdown(self) -> str:
        """A Markdown table: one row per method, mean [95% interval] per metric."""
        lines = ["| method | comprehensiveness (higher is better) | sufficiency (lower is better) |", "|---|---|---|"]
        for method in self.methods:
            lines.append(f"| {method} | " + " | ".join(self.estimates[method][m].format() for m in METRICS) + " |")
        return "\n".join(lines)


def _aopc(
    explainer: GenerationExplainer, prompt: PromptSpec, target: str, scores: np.ndarray, fractions: Sequence[float], full: float
) -> tuple[float, float]:
    order = rank_order(scores)
    n = len(scores)
    coalitions = []
    for fraction in fractions:
        top = torch.zeros(n, dtype=torch.bool)
        top[torch.from_numpy(order[: top_count(n, fraction)].copy())] = True
        coalitions.extend([~top, top])
    values = explainer.erased_values(prompt, target, torch.stack(coalitions)).numpy()
    return float(np.mean(full - values[0::2])), float(np.mean(full - values[1::2]))


def compare_generation(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[PromptSpec],
    targets: Sequence[str] | None = None,
    methods: Sequence[str] | Mapping[str, Mapping[str, Any]] = DEFAULT_GENERATION_METHODS,
    *,
    features: Any = "words",
    erasure: Any = "delete",
    fractions: Sequence[float] = ERASER_FRACTIONS,
    n_bootstrap: int = 1000,
    seed: int = 0,
    max_new_tokens: int = 10,
    method_options: Mapping[str, Mapping[str, Any]] | None = None,
    **explainer_options: Any,
) -> GenerationComparison:
    """Explain every prompt with every method and measure comprehensiveness / sufficiency of the sequence scores.

    ``targets``: one continuation per prompt, or ``None`` for the model's greedy continuation
    (generated once, decoded, and explained as text by every method). ``method_options``: options
    per method name (e.g. ``{"kernel_shap": {"n_samples": 200, "seed": 0}}``). The quantity is the
    target's log-probability. ``methods`` may also map labels to explainer options, to compare
    settings of one method: ``{"ig_zero": {"method": "integrated_gradients", "baseline": "zero"}, ...}``.
    """
    check_count("n_bootstrap", n_bootstrap)
    if not prompts:
        raise InvalidInputError("compare_generation needs at least one prompt")
    explainers = {
        label: GenerationExplainer(model, tokenizer, features=features, erasure=erasure, **{**explainer_options, **variant})
        for label, variant in _variants(methods, method_options).items()
    }
    labels = list(explainers)
    first = next(iter(explainers.values()))
    if targets is None:
        targets = [
            tokenizer.decode(first.explain(p, max_new_tokens=max_new_tokens).generated_ids)  # type: ignore[union-attr]
            for p in prompts
        ]
    if len(targets) != len(prompts):
        raise InvalidInputError(f"{len(targets)} targets for {len(prompts)} prompts")
    explanations: dict[str, list[GenerationExplanation]] = {}
    per_prompt: dict[str, dict[str, np.ndarray]] = {}
    for name, explainer in explainers.items():
        results = explainer.explain(list(prompts), list(targets))
        explanations[name] = results if isinstance(results, list) else [results]
        pairs = [
            _aopc(explainer, p, t, e.sequence_scores.numpy(), fractions, float(e.values.sum()))
            for p, t, e in zip(prompts, targets, explanations[name])
        ]
        per_prompt[name] = {"comprehensiveness": np.array([c for c, _ in pairs]), "sufficiency": np.array([s for _, s in pairs])}
    indices = resample_indices(len(prompts), n_bootstrap, seed)
    estimates = {m: {metric: estimate(per_prompt[m][metric], indices) for metric in METRICS} for m in labels}
    settings = {"features": features, "erasure": erasure, "fractions": list(fractions), "n_bootstrap": n_bootstrap, "seed": seed}
    return GenerationComparison(labels, estimates, per_prompt, explanations, settings)


def _variants(
    methods: Sequence[str] | Mapping[str, Mapping[str, Any]], method_options: Mapping[str, Mapping[str, Any]] | None
) -> dict[str, dict[str, Any]]:
    """Label -> explainer options (``method`` included): method names with their ``method_options``, or labelled settings as given."""
    if isinstance(methods, Mapping):
        missing = [label for label, variant in methods.items() if "method" not in variant]
        if missing:
            raise InvalidInputError(f"labelled methods need a 'method' each; {missing[0]!r} has none")
        return {str(label): dict(variant) for label, variant in methods.items()}
    options = dict(method_options or {})
    return {m: {"method": m, **dict(options.get(m, {}))} for m in methods}
