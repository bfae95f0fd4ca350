"""The text metrics ``compare`` knows: one :class:`~.metric.Metric` per column, each computing itself.

A metric reads a :class:`MetricContext` (one method's explanations, the shared eraser, the model,
the settings) and returns one value per input. The erasure metrics (:data:`ERASURE_METRICS`:
comprehensiveness, sufficiency, deletion and insertion AUC; and dropout infidelity) need only an
:class:`ErasureContext`, so the image registry (:mod:`.image_metrics`) shares them. ``compare``
iterates :data:`METRICS` in table order; metrics that come from one computation (plausibility's F1, IoU and AUPRC) share it through
:meth:`MetricContext.shared`, so it runs once per method.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import numpy as np
from torch import nn

from limelight.engine.validation import check_count, check_optional_count
from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation

from . import faithfulness
from .curves import Curve, aopc
from .eraser import Eraser
from .erasure import Subject, WordEraser
from .explainers import Explainer
from .metric import Metric
from .plausibility import plausibility
from .ranking import RankBy, check_rank_by
from .rationales import Rationale
from .robustness import infidelity, max_sensitivity
from .robustness_metric import words_to_flip
from .sanity import cascading_randomisation

T = TypeVar("T")


@dataclass(frozen=True)
class MetricSettings:
    """How metrics are computed: word ranking, curve resolution, sample counts and the random seed."""

    rank_by: RankBy = "signed"
    curve_steps: int | None = 10
    n_samples: int = 10
    n_sensitivity_samples: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        check_rank_by(self.rank_by)
        check_optional_count("curve_steps", self.curve_steps)
        check_count("n_samples", self.n_samples)
        check_count("n_sensitivity_samples", self.n_sensitivity_samples)


class ErasureContext(Protocol):
    """What an erasure metric reads, for any modality: an eraser, its prepared subjects, the settings."""

    @property
    def eraser(self) -> Eraser: ...

    @property
    def subjects(self) -> Sequence[Any]: ...

    @property
    def settings(self) -> MetricSettings: ...


@dataclass(frozen=True)
class MetricContext:
    """Everything a text metric needs to score one method's explanations."""

    model: nn.Module
    tokenizer: Any
    eraser: WordEraser
    subjects: list[Subject]
    explanations: Sequence[Explanation]
    explainer: Explainer
    rationales: Sequence[Rationale] | None
    settings: MetricSettings
    _shared: dict[Callable[..., Any], Any] = field(default_factory=dict, repr=False, compare=False)

    def shared(self, computation: Callable[[MetricContext], T]) -> T:
        """``computation(self)``, computed on first use and remembered for the metrics that share it."""
        if computation not in self._shared:
            self._shared[computation] = computation(self)
        return cast(T, self._shared[computation])  # stored by this very computation


def _comprehensiveness(c: ErasureContext) -> np.ndarray:
    return aopc(faithfulness.comprehensiveness(c.eraser, c.subjects, rank_by=c.settings.rank_by))


def _sufficiency(c: ErasureContext) -> np.ndarray:
    return aopc(faithfulness.sufficiency(c.eraser, c.subjects, rank_by=c.settings.rank_by))


def _area(curves: Callable[..., list[Curve]]) -> Callable[[ErasureContext], np.ndarray]:
    """Per input, the area under its deletion or insertion curve."""
    return lambda c: np.array([curve.area for curve in curves(c.eraser, c.subjects, c.settings.curve_steps, c.settings.rank_by)])


def _loo_tau(c: MetricContext) -> np.ndarray:
    return faithfulness.leave_one_out_tau(c.eraser, c.subjects)


def _completeness_error(c: MetricContext) -> np.ndarray:
    return faithfulness.completeness_error(c.eraser, c.subjects)


def _infidelity(perturbation: str) -> Callable[[ErasureContext], np.ndarray]:
    return lambda c: infidelity(c.eraser, c.subjects, perturbation, n_samples=c.settings.n_samples, seed=c.settings.seed)


def _max_sensitivity(c: MetricContext) -> np.ndarray:
    return max_sensitivity(
        c.model, c.tokenizer, c.explainer, c.explanations, n_samples=c.settings.n_sensitivity_samples, seed=c.settings.seed
    )


def _randomisation(c: MetricContext) -> np.ndarray:
    return cascading_randomisation(c.model, c.explainer, c.explanations, seed=c.settings.seed, only_final=True).final


def _plausibility(c: MetricContext) -> dict[str, np.ndarray]:
    return plausibility(c.explanations, c.rationales or [], rank_by=c.settings.rank_by)


def _plausible(name: str) -> Callable[[MetricContext], np.ndarray]:
    """One of plausibility's values; the three are computed together, once per context."""
    return lambda c: c.shared(_plausibility)[name]


ERASURE_METRICS: tuple[Metric[ErasureContext], ...] = (
    Metric("comprehensiveness", "comprehensiveness AOPC", True, "faithfulness", _comprehensiveness),
    Metric("sufficiency", "sufficiency AOPC", False, "faithfulness", _sufficiency),
    Metric("deletion_auc", "deletion AUC", False, "faithfulness", _area(faithfulness.deletion_curves)),
    Metric("insertion_auc", "insertion AUC", True, "faithfulness", _area(faithfulness.insertion_curves)),
)
"""The erasure metrics every modality shares, in table order."""

INFIDELITY_DROPOUT: Metric[ErasureContext] = Metric(
    "infidelity_dropout", "infidelity (feature dropout)", False, "faithfulness", _infidelity("dropout")
)
"""Infidelity under random dropout of words or image features (:func:`~.robustness.infidelity`)."""

_TABLE: tuple[Metric[MetricContext], ...] = (
    *ERASURE_METRICS,
    Metric("loo_tau", "leave-one-out tau", True, "faithfulness", _loo_tau),
    Metric("completeness_error", "completeness error", False, "faithfulness", _completeness_error),
    dataclasses.replace(INFIDELITY_DROPOUT, label="infidelity (word dropout)"),
    Metric("infidelity_embedding", "infidelity (embedding noise)", False, "faithfulness", _infidelity("embedding")),
    Metric("max_sensitivity", "max-sensitivity", False, "robustness", _max_sensitivity, re_explains=True),
    Metric("randomisation", "rho after model randomisation", False, "sanity", _randomisation, re_explains=True),
    # words_to_flip searches up to one forward per word per text: opt-in
    Metric("words_to_flip", "top words to flip (fraction)", False, "faithfulness", words_to_flip, by_default=False),
    Metric("f1", "rationale F1@k", True, "plausibility", _plausible("f1"), needs_rationales=True),
    Metric("iou", "rationale IoU@k", True, "plausibility", _plausible("iou"), needs_rationales=True),
    Metric("auprc", "rationale AUPRC", True, "plausibility", _plausible("auprc"), needs_rationales=True),
)
METRICS: dict[str, Metric[MetricContext]] = {metric.name: metric for metric in _TABLE}
"""Every metric by name, in table order."""

DEFAULT_METRICS: tuple[str, ...] = tuple(
    name for name, m in METRICS.items() if m.by_default and not m.re_explains and not m.needs_rationales
)
"""Metrics that only re-run the model's forward: every faithfulness metric."""


def resolve_metrics(metrics: str | Sequence[str], have_rationales: bool, registry: Mapping[str, Metric[Any]] = METRICS) -> tuple[str, ...]:
    """Metric names of ``registry`` from ``"default"`` (forward-only ones), ``"all"`` or a list; plausibility joins
    when rationales are given."""
    plausible = tuple(name for name, m in registry.items() if m.needs_rationales) if have_rationales else ()
    if metrics == "default":
        return tuple(name for name, m in registry.items() if m.by_default and not m.re_explains and not m.needs_rationales) + plausible
    if metrics == "all":
        return tuple(name for name, m in registry.items() if have_rationales or not m.needs_rationales)
    if isinstance(metrics, str):
        raise InvalidInputError(f"metrics must be 'default', 'all' or a list of names from {list(registry)}, got {metrics!r}")
    chosen = list(dict.fromkeys(metrics))
    unknown = [name for name in chosen if name not in registry]
    if unknown:
        raise InvalidInputError(f"unknown metrics {unknown}; choose from {list(registry)}")
    if not have_rationales and any(registry[name].needs_rationales for name in chosen):
        raise InvalidInputError("plausibility metrics (f1, iou, auprc) need rationales=[...], one per text")
    if not chosen:
        raise InvalidInputError("choose at least one metric")
    return tuple(name for name in registry if name in chosen)
