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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from torch import nn

from limelight._progress import progress
from limelight.errors import InvalidInputError
from limelight.text.explanation import Explanations
from limelight.text.labels import LabelSpec

from .agreement import DISAGREEMENT_THRESHOLD, agreement
from .bootstrap import estimate, resample_indices
from .comparison import Comparison, MethodResult
from .erasure import WordEraser
from .explainers import Explainer, MethodExplainer, Targets
from .metrics import METRICS, MetricContext, MetricSettings, resolve_metrics
from .ranking import RankBy
from .rationales import Rationale
from .recommendation import recommend

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
    """
    texts = _texts(texts, rationales)
    chosen_metrics = resolve_metrics(metrics, rationales is not None)
    if primary not in chosen_metrics:
        raise InvalidInputError(f"primary metric {primary!r} is not among the computed metrics {list(chosen_metrics)}")
    metric_settings = MetricSettings(rank_by, curve_steps, n_samples, n_sensitivity_samples, seed)
    explainers = _explainers(tokenizer, methods, settings, method_settings or {})
    eraser = WordEraser(model, tokenizer, fill=fill, quantity=metric_quantity, batch_size=batch_size, show_progress=False)
    indices = resample_indices(len(texts), n_bootstrap, seed)
    results: dict[str, MethodResult] = {}
    for name in progress(list(explainers), len(explainers), "comparing methods", show_progress):
        started = time.perf_counter()
        explanations = Explanations(explainers[name](model, texts, text_pairs, target, contrast))
        if len(explanations) != len(texts):
            raise InvalidInputError(f"method {name!r} returned {len(explanations)} explanations for {len(texts)} texts")
        explained = time.perf_counter()
        context = MetricContext(
            model, tokenizer, eraser, eraser.prepare(explanations), explanations, explainers[name], rationales, metric_settings
        )
        per_metric = {m: np.asarray(METRICS[m].compute(context), dtype=np.float64) for m in chosen_metrics}
        summary = {m: estimate(per_metric[m], indices, confidence) for m in chosen_metrics}
        results[name] = MethodResult(name, explanations, explained - started, time.perf_counter() - explained, per_metric, summary)
    agreed = agreement({n: r.explanations for n, r in results.items()}, agreement_threshold) if len(results) > 1 else None
    summaries = {n: r.summary for n, r in results.items()}
    text = recommend(summaries, {n: r.values for n, r in results.items()}, METRICS, primary, indices, confidence, agreed)
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
