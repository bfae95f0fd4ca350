"""``compare``: explain the same texts with several methods, score every explanation, say which to trust.

All explanations are computed first (timed per method); then every metric runs over all texts of
a method in batched forwards through one shared :class:`~.erasure.WordEraser`, whose cache lets
methods share the variants that do not depend on their scores (the full text, leave-one-out
deletions, the erased text). Per metric and method the table holds the mean over inputs and its
bootstrap interval (:mod:`.bootstrap`); per input, the methods' rank agreement (:mod:`.agreement`);
and a recommendation (:mod:`.recommendation`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
from torch import nn

from limelight._progress import progress
from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanation, Explanations
from limelight.text.labels import LabelSpec

from .agreement import DISAGREEMENT_THRESHOLD, Agreement, agreement
from .bootstrap import Estimate, estimate, resample_indices
from .erasure import Subject, WordEraser
from .explainers import Explainer, MethodExplainer, Targets
from .faithfulness import (
    aopc,
    completeness_error,
    comprehensiveness,
    deletion_curves,
    insertion_curves,
    leave_one_out_tau,
    sufficiency,
)
from .metrics import METRICS, resolve_metrics
from .plausibility import plausibility
from .ranking import RankBy, check_rank_by
from .rationales import Rationale
from .recommendation import recommend
from .robustness import infidelity, max_sensitivity
from .sanity import cascading_randomisation

DEFAULT_METHODS: tuple[str, ...] = ("integrated_gradients", "input_x_gradient", "saliency", "smoothgrad")

MethodsLike = Union[Sequence[str], Mapping[str, Union[str, Explainer]]]


@dataclass(frozen=True)
class MethodResult:
    """One method's explanations, timings, per-input metric values and their summaries."""

    name: str
    explanations: Explanations
    explain_seconds: float
    metric_seconds: float
    values: dict[str, np.ndarray]
    summary: dict[str, Estimate]


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`. Render it with :meth:`to_markdown`, :meth:`to_html` or :meth:`to_dataframe`."""

    texts: list[str]
    results: dict[str, MethodResult]
    metrics: tuple[str, ...]
    primary: str
    recommendation: str
    agreement: Agreement | None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def methods(self) -> list[str]:
        """Method names in the order they were given."""
        return list(self.results)

    def to_markdown(self, max_flagged: int = 10) -> str:
        """The table, the recommendation and the most disagreed-on inputs as Markdown (user text escaped)."""
        from .report import markdown

        return markdown(self, max_flagged)

    def to_html(self, max_flagged: int = 5, title: str = "limelight: which explanation to trust") -> str:
        """A self-contained HTML report (every piece of user data escaped), with side-by-side views of flagged inputs."""
        from .report import html_document

        return html_document(self, max_flagged, title)

    def save_html(self, path: str | os.PathLike[str], **options: Any) -> Path:
        """Write :meth:`to_html` (``options`` go to it) to ``path`` as UTF-8 and return the path."""
        target = Path(path)
        target.write_text(self.to_html(**options), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """The report as an HTML fragment, for Jupyter."""
        from .report import html_fragment

        return html_fragment(self, 3)

    def to_dataframe(self, level: str = "method") -> Any:
        """``level="method"``: one row per method (``<metric>``, ``<metric>_low``, ``<metric>_high``, ``<metric>_n``,
        timings). ``level="input"``: one row per (input, method) with per-input values and the agreement column."""
        from .report import dataframe

        return dataframe(self, level)


def compare(
    model: nn.Module,
    tokenizer: Any,
    texts: Sequence[str] | None = None,
    methods: MethodsLike = DEFAULT_METHODS,
    *,
    metrics: str | Sequence[str] = "default",
    text_pairs: Sequence[str] | None = None,
    target: Targets = None,
    contrast: LabelSpec = None,
    rationales: Sequence[Rationale] | None = None,
    metric_quantity: str | None = None,
    fill: str = "delete",
    rank_by: RankBy = "signed",
    primary: str = "comprehensiveness",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    agreement_threshold: float = DISAGREEMENT_THRESHOLD,
    curve_steps: int | None = 10,
    n_samples: int = 10,
    n_sensitivity_samples: int = 3,
    batch_size: int = 64,
    method_settings: Mapping[str, Mapping[str, Any]] | None = None,
    show_progress: bool | None = None,
    **settings: Any,
) -> Comparison:
    """Explain ``texts`` with every method, score the explanations, and recommend one.

    ``methods``: names :class:`~limelight.text.TextExplainer` accepts, or a mapping from a label to
    a method name or any :class:`~.explainers.Explainer`. ``settings`` go to every TextExplainer
    (``baseline=``, ``quantity=``, ``batch_size=``...), ``method_settings[name]`` to one method;
    ``text_pairs``, ``target`` and ``contrast`` to every explain call.
    ``metrics``: ``"default"`` (every forward-only faithfulness metric, plus plausibility when
    ``rationales`` are given, one per text), ``"all"`` (also max-sensitivity and the model
    randomisation check, which explain again) or a list of names from :data:`~.metrics.METRICS`.
    ``metric_quantity``: what metrics measure (``None``: what each explanation explained;
    ``"probability"`` for ERASER's definition); ``fill``: how words are erased; ``rank_by``:
    ``"signed"`` or ``"absolute"`` scores. ``curve_steps``: points per deletion/insertion curve
    (``None``: every word); ``n_samples``: perturbations per text for infidelity;
    ``n_sensitivity_samples``: re-explanations per text for max-sensitivity. ``primary`` decides
    the recommendation; ``seed`` fixes every random draw (perturbations, bootstrap).
    If ``texts`` is omitted, the rationales' texts are used.
    """
    texts = _texts(texts, rationales)
    chosen_metrics = resolve_metrics(metrics, rationales is not None)
    if primary not in chosen_metrics:
        raise InvalidInputError(f"primary metric {primary!r} is not among the computed metrics {list(chosen_metrics)}")
    check_rank_by(rank_by)
    explainers = _explainers(tokenizer, methods, settings, method_settings or {})
    eraser = WordEraser(model, tokenizer, fill=fill, quantity=metric_quantity, batch_size=batch_size, show_progress=False)
    indices = resample_indices(len(texts), n_bootstrap, seed)
    options = _Options(rank_by, curve_steps, n_samples, n_sensitivity_samples, seed)
    results: dict[str, MethodResult] = {}
    for name in progress(list(explainers), len(explainers), "comparing methods", show_progress):
        started = time.perf_counter()
        explanations = Explanations(explainers[name](model, texts, text_pairs, target, contrast))
        if len(explanations) != len(texts):
            raise InvalidInputError(f"method {name!r} returned {len(explanations)} explanations for {len(texts)} texts")
        explained = time.perf_counter()
        context = _Context(model, tokenizer, eraser, eraser.prepare(explanations), explanations, explainers[name], rationales, options)
        computed = [_COMPUTE[group](context) for group in _groups(chosen_metrics)]
        per_metric = {m: np.asarray(v, dtype=np.float64) for group in computed for m, v in group.items() if m in chosen_metrics}
        summary = {m: estimate(per_metric[m], indices, confidence) for m in chosen_metrics}
        results[name] = MethodResult(name, explanations, explained - started, time.perf_counter() - explained, per_metric, summary)
    agreed = agreement({n: r.explanations for n, r in results.items()}, agreement_threshold) if len(results) > 1 else None
    summaries = {n: r.summary for n, r in results.items()}
    text = recommend(summaries, {n: r.values for n, r in results.items()}, primary, indices, confidence, agreed)
    recorded = {
        "n_inputs": len(texts),
        "quantity": f"the {metric_quantity}" if metric_quantity else "the quantity each method explained",
        "fill": fill,
        "rank_by": rank_by,
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "seed": seed,
        "curve_steps": curve_steps,
        "n_samples": n_samples,
        "model_rows": eraser.rows_evaluated,
    }
    return Comparison(list(texts), results, chosen_metrics, primary, text, agreed, recorded)


def _texts(texts: Sequence[str] | None, rationales: Sequence[Rationale] | None) -> list[str]:
    if texts is None:
        if rationales is None:
            raise InvalidInputError("give texts, or rationales whose texts will be explained")
        return [r.text for r in rationales]
    if isinstance(texts, str):
        raise InvalidInputError("texts must be a list of strings, got one string; wrap it in a list")
    items = list(texts)
    if not items:
        raise InvalidInputError("give at least one text to compare methods on")
    if rationales is not None and len(rationales) != len(items):
        raise InvalidInputError(f"got {len(items)} texts but {len(rationales)} rationales; give one rationale per text")
    return items


def _explainers(
    tokenizer: Any, methods: MethodsLike, settings: Mapping[str, Any], per_method: Mapping[str, Mapping[str, Any]]
) -> dict[str, Explainer]:
    if isinstance(methods, str):
        raise InvalidInputError(f"methods must be a list of names (or a mapping), got the string {methods!r}; wrap it in a list")
    named: dict[str, str | Explainer] = dict(methods) if isinstance(methods, Mapping) else {m: m for m in methods}
    if isinstance(methods, Sequence) and len(named) != len(methods):
        raise InvalidInputError(f"methods are listed more than once: {list(methods)}")
    if not named:
        raise InvalidInputError("give at least one method")
    unknown = sorted(set(per_method) - set(named))
    if unknown:
        raise InvalidInputError(f"method_settings names methods that are not compared: {unknown}")
    out: dict[str, Explainer] = {}
    for label, method in named.items():
        if isinstance(method, str):
            out[label] = MethodExplainer(tokenizer, method, {**settings, **per_method.get(label, {})})
        elif callable(method):
            out[label] = method
        else:
            raise InvalidInputError(f"method {label!r} must be a method name or an explainer callable, got {type(method).__name__}")
    return out


@dataclass(frozen=True)
class _Options:
    rank_by: RankBy
    curve_steps: int | None
    n_samples: int
    n_sensitivity_samples: int
    seed: int


@dataclass(frozen=True)
class _Context:
    """Everything a metric needs for one method."""

    model: nn.Module
    tokenizer: Any
    eraser: WordEraser
    subjects: list[Subject]
    explanations: list[Explanation]
    explainer: Explainer
    rationales: Sequence[Rationale] | None
    options: _Options


def _areas(curves: Callable[..., list[Any]], c: _Context) -> np.ndarray:
    """Per text, the area under its deletion or insertion curve."""
    return np.array([curve.area for curve in curves(c.eraser, c.subjects, c.options.curve_steps, c.options.rank_by)])


_COMPUTE: dict[str, Callable[[_Context], dict[str, np.ndarray]]] = {
    "comprehensiveness": lambda c: {"comprehensiveness": aopc(comprehensiveness(c.eraser, c.subjects, rank_by=c.options.rank_by))},
    "sufficiency": lambda c: {"sufficiency": aopc(sufficiency(c.eraser, c.subjects, rank_by=c.options.rank_by))},
    "deletion_auc": lambda c: {"deletion_auc": _areas(deletion_curves, c)},
    "insertion_auc": lambda c: {"insertion_auc": _areas(insertion_curves, c)},
    "loo_tau": lambda c: {"loo_tau": leave_one_out_tau(c.eraser, c.subjects)},
    "completeness_error": lambda c: {"completeness_error": completeness_error(c.eraser, c.subjects)},
    "infidelity_dropout": lambda c: {
        "infidelity_dropout": infidelity(c.eraser, c.subjects, "dropout", n_samples=c.options.n_samples, seed=c.options.seed)
    },
    "infidelity_embedding": lambda c: {
        "infidelity_embedding": infidelity(c.eraser, c.subjects, "embedding", n_samples=c.options.n_samples, seed=c.options.seed)
    },
    "max_sensitivity": lambda c: {
        "max_sensitivity": max_sensitivity(
            c.model, c.tokenizer, c.explainer, c.explanations, n_samples=c.options.n_sensitivity_samples, seed=c.options.seed
        )
    },
    "randomisation": lambda c: {
        "randomisation": cascading_randomisation(c.model, c.explainer, c.explanations, seed=c.options.seed, only_final=True).final
    },
    "plausibility": lambda c: plausibility(c.explanations, c.rationales or [], rank_by=c.options.rank_by),
}
"""How each metric (or group: plausibility gives f1, iou and auprc at once) is computed for one method."""


def _groups(metrics: Sequence[str]) -> list[str]:
    """The computations needed for ``metrics`` (one per metric; one for all plausibility metrics)."""
    return list(dict.fromkeys("plausibility" if METRICS[m].needs_rationales else m for m in metrics))
