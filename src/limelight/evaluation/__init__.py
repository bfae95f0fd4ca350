"""Evaluation: which explanation to trust, for this model and these texts.

:func:`compare` explains texts with several methods and scores every explanation with the metrics
of the registry :data:`~.metrics.METRICS` (each a :class:`~.metric.Metric` that computes itself),
defined precisely in their modules: faithfulness (:mod:`.faithfulness`: comprehensiveness,
sufficiency, AOPC, deletion/insertion curves, leave-one-out agreement, completeness error),
robustness (:mod:`.robustness`: infidelity, max-sensitivity), plausibility against human rationales
(:mod:`.plausibility`, loaders in :mod:`.rationales`), sanity checks (:mod:`.sanity`) and agreement
between methods (:mod:`.agreement`), summarised with bootstrap intervals (:mod:`.bootstrap`).
The maths (:mod:`.curves`, :mod:`.ranking`, :mod:`.bootstrap`, :mod:`.recommendation`) knows no
modality; text is re-run through the word eraser (:mod:`.erasure`), images through the image eraser
(:mod:`.image_erasure`), both behind one interface (:mod:`.eraser`). :func:`compare_images` does for
images what :func:`compare` does for texts, with the image registry :data:`~.image_metrics.IMAGE_METRICS`
(the shared erasure metrics, least-relevant-first curves, infidelity, max-sensitivity and the model
randomisation check of :mod:`.image_checks`). The result is a :class:`~.comparison.Comparison`,
rendered by :mod:`.report`.
"""

from __future__ import annotations

from limelight.engine.objective import Objective

from . import report as report  # registers the comparison's views (Markdown, HTML, DataFrame)
from .agreement import Agreement, agreement
from .bootstrap import Estimate
from .compare import compare
from .comparison import Comparison, MethodResult
from .curves import Curve, aopc
from .eraser import Eraser, Perturbation, Scored, keep_only
from .erasure import FILLS, Subject, WordEraser
from .explainers import Explainer, MethodExplainer
from .faithfulness import (
    ERASER_FRACTIONS,
    completeness_error,
    comprehensiveness,
    deletion_curves,
    insertion_curves,
    leave_one_out,
    leave_one_out_tau,
    sufficiency,
)
from .image_checks import image_cascading_randomisation, image_max_sensitivity, image_randomisation_blocks
from .image_compare import DEFAULT_IMAGE_METHODS, compare_images
from .image_erasure import ImageEraser, ImageSubject
from .image_explainers import ImageExplainerLike, ImageMethodExplainer
from .image_metrics import IMAGE_METRICS, ImageMetricContext
from .metric import Metric
from .metrics import DEFAULT_METRICS, METRICS, MetricContext, MetricSettings
from .plausibility import average_precision, f1_at_k, iou_at_k, plausibility, rationale_mask
from .ranking import kendall_tau, rank_order, spearman
from .rationales import Rationale, load_sst_rationales, load_toxic_spans
from .robustness import infidelity, max_sensitivity
from .sanity import Block, DataRandomisation, RandomisationCurve, cascading_randomisation, data_randomisation, randomisation_blocks
from .tiny_classifier import BagOfEmbeddings, train_bag_of_embeddings

__all__ = [
    "DEFAULT_IMAGE_METHODS",
    "DEFAULT_METRICS",
    "ERASER_FRACTIONS",
    "FILLS",
    "IMAGE_METRICS",
    "METRICS",
    "Agreement",
    "BagOfEmbeddings",
    "Block",
    "Comparison",
    "Curve",
    "DataRandomisation",
    "Eraser",
    "Estimate",
    "Explainer",
    "ImageEraser",
    "ImageExplainerLike",
    "ImageMethodExplainer",
    "ImageMetricContext",
    "ImageSubject",
    "MethodExplainer",
    "MethodResult",
    "Metric",
    "MetricContext",
    "MetricSettings",
    "Objective",
    "Perturbation",
    "RandomisationCurve",
    "Rationale",
    "Scored",
    "Subject",
    "WordEraser",
    "agreement",
    "aopc",
    "average_precision",
    "cascading_randomisation",
    "compare",
    "compare_images",
    "completeness_error",
    "comprehensiveness",
    "data_randomisation",
    "deletion_curves",
    "f1_at_k",
    "infidelity",
    "insertion_curves",
    "image_cascading_randomisation",
    "image_max_sensitivity",
    "image_randomisation_blocks",
    "iou_at_k",
    "keep_only",
    "kendall_tau",
    "leave_one_out",
    "leave_one_out_tau",
    "load_sst_rationales",
    "load_toxic_spans",
    "max_sensitivity",
    "plausibility",
    "randomisation_blocks",
    "rank_order",
    "rationale_mask",
    "spearman",
    "sufficiency",
    "train_bag_of_embeddings",
]
