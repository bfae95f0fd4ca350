"""``compare_images``: explain the same images with several methods, score every explanation, say which to trust.

The image counterpart of :func:`~.compare.compare`, with the same core (:func:`~.compare.score_methods`):
all explanations of a method are computed (timed), then every chosen metric of the image registry
(:data:`~.image_metrics.IMAGE_METRICS`) computes itself over all images, through one shared
:class:`~.image_erasure.ImageEraser` whose cache lets methods share the variants that do not depend
on their scores (the image itself, the image fully erased). Per metric and method: the mean over
images and its bootstrap interval; per image, the methods' rank agreement on pixel scores; and the
same recommendation as for text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from torch import nn

from limelight.errors import InvalidInputError
from limelight.vision.baselines import BaselineLike, describe_baseline, parse_baseline
from limelight.vision.explainer import Targets
from limelight.vision.explanation import ImageExplanations
from limelight.vision.features import FeatureSpec
from limelight.vision.images import Images, load_images
from limelight.vision.methods import VISION_METHODS, vision_method
from limelight.vision.objective import LabelSpec
from limelight.vision.preprocess import Preprocessing

from .agreement import DISAGREEMENT_THRESHOLD
from .bootstrap import resample_indices
from .compare import conclude, named_methods, recorded_settings, score_methods
from .comparison import Comparison
from .image_erasure import ImageEraser
from .image_explainers import ImageExplainerLike, ImageMethodExplainer
from .image_metrics import IMAGE_METRICS, ImageMetricContext
from .metrics import MetricSettings, resolve_metrics
from .ranking import RankBy

DEFAULT_IMAGE_METHODS: tuple[str, ...] = ("integrated_gradients", "input_x_gradient", "saliency")

ALL = "all"
"""``methods="all"``: every method of the vision front end (:data:`~limelight.vision.methods.VISION_METHODS`)."""

ImageMethodsLike = Sequence[str] | Mapping[str, str | ImageExplainerLike]


def compare_images(
    model: nn.Module,
    images: Images,
    methods: ImageMethodsLike = DEFAULT_IMAGE_METHODS,
    *,
    preprocess: Preprocessing | str | None = "imagenet",
    labels: Sequence[str] | None = None,
    metrics: str | Sequence[str] = "default",
    target: Targets = None,
    contrast: LabelSpec = None,
    baseline: BaselineLike = "black",
    metric_features: FeatureSpec = None,
    metric_quantity: str | None = None,
    rank_by: RankBy = "signed",
    primary: str = "comprehensiveness",
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    agreement_threshold: float = DISAGREEMENT_THRESHOLD,
    curve_steps: int | None = 10,
    n_samples: int = 10,
    n_sensitivity_samples: int = 3,
    batch_size: int = 8,
    method_settings: Mapping[str, Mapping[str, Any]] | None = None,
    show_progress: bool | None = None,
    **settings: Any,
) -> Comparison:
    """Explain ``images`` with every method, score the explanations, and recommend one.

    ``methods``: names :class:`~limelight.vision.ImageExplainer` accepts, ``"all"`` (every method of the
    front end), or a mapping from a label to a method name or any :class:`~.image_explainers.ImageExplainerLike`. ``preprocess``,
    ``labels`` and ``baseline`` go to every explainer and to the eraser (an erased pixel becomes the
    baseline's); other ``settings`` (``features=``, ``quantity=``, ``pooling=``, ...) to every
    explainer, ``method_settings[name]`` to one method; ``target`` and ``contrast`` to every call.
    ``metrics``: ``"default"`` (every forward-only metric), ``"all"`` (also max-sensitivity and the
    model-randomisation check, which explain again) or names from :data:`~.image_metrics.IMAGE_METRICS`.
    Metrics erase an explanation's segments when it has them, else ``metric_features`` (``"slic"``,
    ``"patches"``, ...; ``None``: pixels). ``metric_quantity``, ``rank_by``, ``curve_steps``,
    ``n_samples``, ``n_sensitivity_samples``, ``primary`` and ``seed`` as for :func:`~.compare.compare`.
    A method that cannot run on the model (an error while explaining, e.g. a propagation rule refusing a
    layer) is left out and reported in ``Comparison.refused`` and the recommendation, with the error.
    """
    originals, names, _ = load_images(images)
    chosen_metrics = resolve_metrics(metrics, False, IMAGE_METRICS)
    if primary not in chosen_metrics:
        raise InvalidInputError(f"primary metric {primary!r} is not among the computed metrics {list(chosen_metrics)}")
    metric_settings = MetricSettings(rank_by, curve_steps, n_samples, n_sensitivity_samples, seed)
    shared = {"baseline": baseline, "batch_size": batch_size, **settings}
    explainers = _explainers(preprocess, labels, methods, shared, method_settings or {})
    eraser = ImageEraser(
        model, preprocess, labels, baseline=baseline, features=metric_features, quantity=metric_quantity, batch_size=batch_size
    )
    indices = resample_indices(len(originals), n_bootstrap, seed)
    refused: dict[str, str] = {}
    results = score_methods(
        {name: partial(_explain, e, model, originals, target, contrast) for name, e in explainers.items()},
        lambda name, explanations: ImageMetricContext(
            model, eraser, eraser.prepare(explanations), explanations, explainers[name], metric_settings
        ),
        IMAGE_METRICS,
        chosen_metrics,
        len(originals),
        indices,
        confidence,
        show_progress,
        refused,
    )
    if not results:
        raise InvalidInputError(f"no method could run on this model: {refused}")
    agreed, text = conclude(results, IMAGE_METRICS, primary, indices, confidence, agreement_threshold, "images")
    if refused:
        text += " Refused (could not run on this model, left out): " + "; ".join(f"{n} ({reason})" for n, reason in refused.items()) + "."
    erasure = {
        "fill": f"{describe_baseline(parse_baseline(baseline))} baseline",
        "features": "segments" if metric_features is not None else "segments or pixels",
    }
    recorded = recorded_settings(len(originals), metric_quantity, erasure, metric_settings, n_bootstrap, confidence, eraser.rows_evaluated)
    return Comparison(names, results, chosen_metrics, primary, text, agreed, recorded, IMAGE_METRICS, refused)


def _explain(explainer: ImageExplainerLike, model: nn.Module, images: list[Any], target: Targets, contrast: LabelSpec) -> ImageExplanations:
    return ImageExplanations(explainer(model, images, target, contrast))


def _explainers(
    preprocess: Preprocessing | str | None,
    labels: Sequence[str] | None,
    methods: ImageMethodsLike,
    settings: Mapping[str, Any],
    per_method: Mapping[str, Mapping[str, Any]],
) -> dict[str, ImageExplainerLike]:
    named = named_methods(tuple(VISION_METHODS) if methods == ALL else methods, per_method)
    for method in named.values():
        if isinstance(method, str):
            vision_method(method)  # an unknown name is the caller's mistake, not a method refusing the model
    return {
        label: ImageMethodExplainer(method, preprocess, labels, {**settings, **per_method.get(label, {})})
        if isinstance(method, str)
        else method
        for label, method in named.items()
    }
