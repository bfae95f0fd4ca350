"""The metrics ``compare`` knows: name, label, direction and what computing them costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from limelight.errors import InvalidInputError


@dataclass(frozen=True)
class Metric:
    """One column of a comparison. ``re_explains``: it explains every text again (costs a full explanation pass or more)."""

    name: str
    label: str
    higher_is_better: bool
    family: str
    re_explains: bool = False
    needs_rationales: bool = False


METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric("comprehensiveness", "comprehensiveness AOPC", True, "faithfulness"),
        Metric("sufficiency", "sufficiency AOPC", False, "faithfulness"),
        Metric("deletion_auc", "deletion AUC", False, "faithfulness"),
        Metric("insertion_auc", "insertion AUC", True, "faithfulness"),
        Metric("loo_tau", "leave-one-out tau", True, "faithfulness"),
        Metric("completeness_error", "completeness error", False, "faithfulness"),
        Metric("infidelity_dropout", "infidelity (word dropout)", False, "faithfulness"),
        Metric("infidelity_embedding", "infidelity (embedding noise)", False, "faithfulness"),
        Metric("max_sensitivity", "max-sensitivity", False, "robustness", re_explains=True),
        Metric("randomisation", "rho after model randomisation", False, "sanity", re_explains=True),
        Metric("f1", "rationale F1@k", True, "plausibility", needs_rationales=True),
        Metric("iou", "rationale IoU@k", True, "plausibility", needs_rationales=True),
        Metric("auprc", "rationale AUPRC", True, "plausibility", needs_rationales=True),
    )
}
"""Every metric by name, in table order."""

DEFAULT_METRICS: tuple[str, ...] = tuple(name for name, m in METRICS.items() if not m.re_explains and not m.needs_rationales)
"""Metrics that only re-run the model's forward: every faithfulness metric."""


def resolve_metrics(metrics: str | Sequence[str], have_rationales: bool) -> tuple[str, ...]:
    """Metric names from ``"default"`` (forward-only ones), ``"all"`` or a list; plausibility joins when rationales are given."""
    plausibility = tuple(name for name, m in METRICS.items() if m.needs_rationales) if have_rationales else ()
    if metrics == "default":
        return DEFAULT_METRICS + plausibility
    if metrics == "all":
        return tuple(name for name, m in METRICS.items() if have_rationales or not m.needs_rationales)
    if isinstance(metrics, str):
        raise InvalidInputError(f"metrics must be 'default', 'all' or a list of names from {list(METRICS)}, got {metrics!r}")
    chosen = list(dict.fromkeys(metrics))
    unknown = [name for name in chosen if name not in METRICS]
    if unknown:
        raise InvalidInputError(f"unknown metrics {unknown}; choose from {list(METRICS)}")
    if not have_rationales and any(METRICS[name].needs_rationales for name in chosen):
        raise InvalidInputError("plausibility metrics (f1, iou, auprc) need rationales=[...], one per text")
    if not chosen:
        raise InvalidInputError("choose at least one metric")
    return tuple(name for name in METRICS if name in chosen)
