"""The image metrics ``compare_images`` knows: one :class:`~.metric.Metric` per column, each computing itself.

The erasure metrics are the text registry's own (:data:`~.metrics.ERASURE_METRICS`:
comprehensiveness and sufficiency AOPC, deletion and insertion AUC, most relevant first), computed
through the image eraser (:mod:`.image_erasure`) over segments or pixels; then dropout infidelity
over features and, re-explaining, max-sensitivity and the cascading model-randomisation check
(:mod:`.image_checks`). The least-relevant-first curves (``least_first=True`` of
:func:`~.faithfulness.deletion_curves` and :func:`~.faithfulness.insertion_curves`) have no column
of their own: erasing the ``j`` least relevant features keeps exactly the ``n - j`` most relevant,
so the LeRF deletion curve is the MoRF insertion curve read backwards (the same area), and the
LeRF insertion curve the MoRF deletion curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from limelight.vision.explanation import ImageExplanation

from .image_checks import image_cascading_randomisation, image_max_sensitivity
from .image_erasure import ImageEraser, ImageSubject
from .image_explainers import ImageExplainerLike
from .metric import Metric
from .metrics import ERASURE_METRICS, INFIDELITY_DROPOUT, MetricSettings


@dataclass(frozen=True)
class ImageMetricContext:
    """Everything an image metric needs to score one method's explanations."""

    model: nn.Module
    eraser: ImageEraser
    subjects: Sequence[ImageSubject]
    explanations: Sequence[ImageExplanation]
    explainer: ImageExplainerLike
    settings: MetricSettings


def _max_sensitivity(c: ImageMetricContext) -> np.ndarray:
    return image_max_sensitivity(c.model, c.explainer, c.explanations, n_samples=c.settings.n_sensitivity_samples, seed=c.settings.seed)


def _randomisation(c: ImageMetricContext) -> np.ndarray:
    return image_cascading_randomisation(c.model, c.explainer, c.explanations, seed=c.settings.seed, only_final=True).final


_TABLE: tuple[Metric[ImageMetricContext], ...] = (
    *ERASURE_METRICS,
    INFIDELITY_DROPOUT,
    Metric("max_sensitivity", "max-sensitivity", False, "robustness", _max_sensitivity, re_explains=True),
    Metric("randomisation", "rho after model randomisation", False, "sanity", _randomisation, re_explains=True),
)
IMAGE_METRICS: dict[str, Metric[ImageMetricContext]] = {metric.name: metric for metric in _TABLE}
"""Every image metric by name, in table order."""
