"""limelight: attributions for PyTorch models that are correct by construction.

Engine (any PyTorch forward): :class:`IntegratedGradients`, :class:`LayerIntegratedGradients`,
:class:`Saliency`, :class:`InputXGradient`, :class:`GradientShap`, :class:`NoiseTunnel`;
perturbations: :class:`FeatureAblation`, :class:`Occlusion`, :class:`ShapleyValues`,
:class:`ShapleyValueSampling`, :class:`KernelShap`, :class:`Lime`.
Text front end (Hugging Face classifiers): :func:`explain`, :class:`TextExplainer`,
:func:`demo_model`. Vision front end (image classifiers): :func:`limelight.vision.explain_image`,
:class:`ImageExplainer`, :func:`demo_image_model`; propagation and layer methods :class:`GuidedBackprop`,
:class:`Deconvolution`, :class:`LayerGradCam`, :class:`GuidedGradCam`. Evaluation (which explanation to trust): :func:`compare` (texts) and :func:`compare_images` -> :class:`Comparison`;
metrics, rationale loaders and sanity checks in :mod:`limelight.evaluation`.
"""

from __future__ import annotations

from typing import Any

from . import viz as viz  # registers the Jupyter views; the README's limelight.viz.save_html
from .engine import (
    Attribution,
    Contrast,
    Deconvolution,
    Evidence,
    FeatureAblation,
    GradientShap,
    GuidedBackprop,
    GuidedGradCam,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LayerGradCam,
    LayerIntegratedGradients,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
)
from .evaluation import Comparison, compare, compare_images
from .text.explainer import TextExplainer, explain
from .text.explanation import Explanation, Explanations
from .vision import ImageExplainer, ImageExplanation, ImageExplanations, explain_image

__version__ = "0.1.0"


def demo_model() -> tuple[Any, Any]:
    """The embedded demo sentiment classifier and its tokenizer (needs ``limelight[demo]``)."""
    from .demo import demo_model as load

    return load()


def demo_image_model() -> tuple[Any, Any, list[str]]:
    """The demo image classifier (ImageNet EfficientNet-Lite0), its preprocessing and label names (needs ``limelight[vision]``)."""
    from .demo.image import demo_image_model as load

    return load()


__all__ = [
    "Attribution",
    "Comparison",
    "Contrast",
    "Deconvolution",
    "Evidence",
    "Explanation",
    "Explanations",
    "ImageExplainer",
    "ImageExplanation",
    "ImageExplanations",
    "FeatureAblation",
    "GradientShap",
    "GuidedBackprop",
    "GuidedGradCam",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "LayerGradCam",
    "LayerIntegratedGradients",
    "Lime",
    "NoiseTunnel",
    "Occlusion",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
    "TextExplainer",
    "compare",
    "compare_images",
    "demo_model",
    "demo_image_model",
    "explain",
    "explain_image",
]
