"""``compare``: explain the same texts with several methods, score every explanation, say which to trust.

All explanations are computed first (timed per method); then every chosen metric of the registry
(:data:`~.metrics.METRICS`) computes itself over all texts of a method, in batched forwards through
one shared :class:`~.erasure.WordEraser`, whose cache lets methods share the variants that do not
depend on their scores (the full text, leave-one-out deletions, the erased text). Per metric and method the table holds the mean over inputs and its
bootstrap interval (:mod:`.bootstrap`); per input, the methods' rank agreement (:mod:`.agreement`);
and a recommendation (:mod:`.recommendation`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar, cast

import numpy as np
from torch import nn

from limelight._progress import progress
from limelight.errors import InvalidInputError, LimelightError
from limelight.text.explanation import Explanations
from limelight.text.labels import LabelSpec

from .agreement import DISAGREEMENT_THRESHOLD, Agreement, agreement
from .bootstrap import estimate, resample_indices
from .comparison import Comparison, MethodResult, ResultExplanations
from .erasure import WordEraser
from .explainers import Explainer, MethodExplainer, Targets
from .head_compare import HEAD_METRICS, REQUESTS, HeadMetricContext, comparison_head, head_explainers
from .head_erasure import HeadEraser
from .metric import Metric
from .metrics import METRICS, MetricContext, MetricSettings, resolve_metrics
from .ranking import RankBy
from .rationales import Rationale
from .recommendation import recommend

C = TypeVar("C")

DEFAULT_METHODS: tuple[str, ...] = ("integrated_gradients", "input_x_gradient", "saliency", "smoothgrad")

MethodsLike = Sequence[str] | Mapping[str, str | Explainer]


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

    Token classifiers (``token=`` or ``span=``, one or one per text), question-answering readers
    (``text_pairs`` the contexts; ``answer=`` and ``part=``, default ``"span"``) and bare encoders
    (sentence similarity, ``text_pairs`` the second texts) are compared on the metrics of
    :data:`~.head_compare.HEAD_METRICS` (see :mod:`.head_erasure` for what they erase and re-measure).
    """
    texts = _texts(texts, rationales)
    metric_settings = MetricSettings(rank_by, curve_steps, n_samples, n_sensitivity_samples, seed)
    head = comparison_head(model)
    eraser: WordEraser | HeadEraser
    context_of: Callable[[str, Any], object]
    registry: Mapping[str, Metric[Any]]  # scored as Metric[object]: each branch pairs a registry with its own context
    if head is None:
        registry, chosen_metrics = METRICS, resolve_metrics(metrics, rationales is not None)
        explainers = _explainers(tokenizer, methods, settings, method_settings or {})
        word_eraser = eraser = WordEraser(model, tokenizer, fill=fill, quantity=metric_quantity, batch_size=batch_size, show_progress=False)
        context_of = lambda name, explanations: MetricContext(  # noqa: E731
            model, tokenizer, word_eraser, word_eraser.prepare(explanations), explanations, explainers[name], rationales, metric_settings
        )
    else:
        if rationales is not None:
            raise InvalidInputError(f"rationales are for sequence classifiers; a {head.replace('_', ' ')} comparison takes none")
        registry, chosen_metrics = HEAD_METRICS, resolve_metrics(metrics, False, HEAD_METRICS)
        request = {name: settings.pop(name) for name in REQUESTS if name in settings}
        explainers = head_explainers(
            tokenizer, head, named_methods(methods, method_settings or {}), settings, method_settings or {}, request
        )
        head_eraser = eraser = HeadEraser(model, tokenizer, fill=fill, quantity=metric_quantity, batch_size=batch_size)
        context_of = lambda name, explanations: HeadMetricContext(  # noqa: E731
            head_eraser, head_eraser.prepare(explanations), explanations, metric_settings
        )
    if primary not in chosen_metrics:
        raise InvalidInputError(f"primary metric {primary!r} is not among the computed metrics {list(chosen_metrics)}")
    indices = resample_indices(len(texts), n_bootstrap, seed)
    results = score_methods(
        {name: partial(_explain, e, model, texts, text_pairs, target, contrast) for name, e in explainers.items()},
        context_of,
        cast(Mapping[str, Metric[object]], registry),
        chosen_metrics,
        len(texts),
        indices,
        confidence,
        show_progress,
    )
    agreed, text = conclude(results, registry, primary, indices, confidence, agreement_threshold)
    erasure = {"fill": fill} if head is None else {"fill": fill, "head": head}
    recorded = recorded_settings(len(texts), metric_quantity, erasure, metric_settings, n_bootstrap, confidence, eraser.rows_evaluated)
    return Comparison(list(texts), results, chosen_metrics, primary, text, agreed, recorded, registry)


def score_methods(
    explain: Mapping[str, Callable[[], ResultExplanations]],
    context_of: Callable[[str, Any], C],
    registry: Mapping[str, Metric[C]],
    chosen: Sequence[str],
    n_inputs: int,
    indices: np.ndarray,
    confidence: float,
    show_progress: bool | None,
    refused: dict[str, str] | None = None,
) -> dict[str, MethodResult]:
    """For each method, in order: explain every input (timed), then compute each chosen metric of ``registry``
    on ``context_of(method, explanations)`` (timed) and summarise it with bootstrap intervals over ``indices``.
    Modality-free: each front end's compare supplies the explaining and its metrics' context.
    With ``refused`` (a dict to fill), a method whose explaining raises a :class:`~limelight.errors.LimelightError`
    or a ``RuntimeError`` (it cannot run on this model) is recorded there, name -> the error, and left out."""
    results: dict[str, MethodResult] = {}
    for name in progress(list(explain), len(explain), "comparing methods", show_progress):
        started = time.perf_counter()
        try:
            explanations = explain[name]()
        except (LimelightError, RuntimeError) as error:
            if refused is None:
                raise
            refused[name] = f"{type(error).__name__}: {error}"
            continue
        if len(explanations) != n_inputs:
            raise InvalidInputError(f"method {name!r} returned {len(explanations)} explanations for {n_inputs} inputs")
        explained = time.perf_counter()
        context = context_of(name, explanations)
        per_metric = {m: np.asarray(registry[m].compute(context), dtype=np.float64) for m in chosen}
        summary = {m: estimate(per_metric[m], indices, confidence) for m in chosen}
        results[name] = MethodResult(name, explanations, explained - started, time.perf_counter() - explained, per_metric, summary)
    return results


def recorded_settings(
    n_inputs: int,
    metric_quantity: str | None,
    erasure: Mapping[str, str],
    metric_settings: MetricSettings,
    n_bootstrap: int,
    confidence: float,
    model_rows: int,
) -> dict[str, Any]:
    """What a comparison records of how it was made (``erasure``: how its eraser removes features), in report order."""
    return {
        "n_inputs": n_inputs,
        "quantity": f"the {metric_quantity}" if metric_quantity else "the quantity each method explained",
        **erasure,
        "rank_by": metric_settings.rank_by,
        "n_bootstrap": n_bootstrap,
        "confidence": confidence,
        "seed": metric_settings.seed,
        "curve_steps": metric_settings.curve_steps,
        "n_samples": metric_settings.n_samples,
        "model_rows": model_rows,
    }


def conclude(
    results: Mapping[str, MethodResult],
    registry: Mapping[str, Metric[Any]],
    primary: str,
    indices: np.ndarray,
    confidence: float,
    agreement_threshold: float,
    inputs: str = "texts",
) -> tuple[Agreement | None, str]:
    """The methods' per-input agreement (with two methods or more) and the recommendation on ``primary`` (``inputs``: "texts", "images")."""
    agreed = agreement({n: r.explanations for n, r in results.items()}, agreement_threshold) if len(results) > 1 else None
    summaries = {n: r.summary for n, r in results.items()}
    return agreed, recommend(summaries, {n: r.values for n, r in results.items()}, registry, primary, indices, confidence, agreed, inputs)


def _explain(
    explainer: Explainer, model: nn.Module, texts: list[str], text_pairs: Sequence[str] | None, target: Targets, contrast: LabelSpec
) -> Explanations:
    return Explanations(explainer(model, texts, text_pairs, target, contrast))


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
    named = named_methods(methods, per_method)
    return {
        label: MethodExplainer(tokenizer, method, {**settings, **per_method.get(label, {})}) if isinstance(method, str) else method
        for label, method in named.items()
    }


def named_methods(methods: Sequence[str] | Mapping[str, Any], per_method: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``methods`` (names, or a mapping from a label to a name or an explainer callable) checked, as label -> method."""
    if isinstance(methods, str):
        raise InvalidInputError(f"methods must be a list of names (or a mapping), got the string {methods!r}; wrap it in a list")
    named: dict[str, Any] = dict(methods) if isinstance(methods, Mapping) else {m: m for m in methods}
    if isinstance(methods, Sequence) and len(named) != len(methods):
        raise InvalidInputError(f"methods are listed more than once: {list(methods)}")
    if not named:
        raise InvalidInputError("give at least one method")
    unknown = sorted(set(per_method) - set(named))
    if unknown:
        raise InvalidInputError(f"method_settings names methods that are not compared: {unknown}")
    for label, method in named.items():
        if not isinstance(method, str) and not callable(method):
            raise InvalidInputError(f"method {label!r} must be a method name or an explainer callable, got {type(method).__name__}")
    return named
