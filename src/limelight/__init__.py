"""limelight: attributions for PyTorch models that are correct by construction.

Engine (any PyTorch forward): :class:`IntegratedGradients`, :class:`LayerIntegratedGradients`,
:class:`Saliency`, :class:`InputXGradient`, :class:`GradientShap`, :class:`NoiseTunnel`;
perturbations: :class:`FeatureAblation`, :class:`Occlusion`, :class:`ShapleyValues`,
:class:`ShapleyValueSampling`, :class:`KernelShap`, :class:`Lime`.
Text front end (Hugging Face classifiers): :func:`explain`, :class:`TextExplainer`,
:func:`demo_model`. Evaluation (which explanation to trust): :func:`compare` -> :class:`Comparison`;
metrics, rationale loaders and sanity checks in :mod:`limelight.evaluation`.
"""

from __future__ import annotations

from typing import Any

from .engine import (
    Attribution,
    Contrast,
    FeatureAblation,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    KernelShap,
    LayerIntegratedGradients,
    Lime,
    NoiseTunnel,
    Occlusion,
    Saliency,
    ShapleyValues,
    ShapleyValueSampling,
)
from .evaluation import Comparison, compare
from .text.explainer import TextExplainer, explain
from .text.explanation import Explanation, Explanations

__version__ = "0.1.0"


def demo_model() -> tuple[Any, Any]:
    """The embedded demo sentiment classifier and its tokenizer (needs ``limelight[demo]``)."""
    from .demo import demo_model as load

    return load()


__all__ = [
    "Attribution",
    "Comparison",
    "Contrast",
    "Explanation",
    "Explanations",
    "FeatureAblation",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "KernelShap",
    "LayerIntegratedGradients",
    "Lime",
    "NoiseTunnel",
    "Occlusion",
    "Saliency",
    "ShapleyValueSampling",
    "ShapleyValues",
    "TextExplainer",
    "compare",
    "demo_model",
    "explain",
]
