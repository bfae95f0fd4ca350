"""limelight: attributions for PyTorch models that are correct by construction.

Engine (any PyTorch forward): :class:`IntegratedGradients`, :class:`LayerIntegratedGradients`,
:class:`Saliency`, :class:`InputXGradient`, :class:`GradientShap`, :class:`NoiseTunnel`.
Text front end (Hugging Face classifiers): :func:`explain`, :class:`TextExplainer`,
:func:`demo_model`.
"""

from __future__ import annotations

from typing import Any

from .engine import (
    Attribution,
    Contrast,
    GradientShap,
    InputXGradient,
    IntegratedGradients,
    LayerIntegratedGradients,
    NoiseTunnel,
    Saliency,
)
from .text.explainer import TextExplainer, explain
from .text.explanation import Explanation, Explanations

__version__ = "0.1.0"


def demo_model() -> tuple[Any, Any]:
    """The embedded demo sentiment classifier and its tokenizer (needs ``limelight[demo]``)."""
    from .demo import demo_model as load

    return load()


__all__ = [
    "Attribution",
    "Contrast",
    "Explanation",
    "Explanations",
    "GradientShap",
    "InputXGradient",
    "IntegratedGradients",
    "LayerIntegratedGradients",
    "NoiseTunnel",
    "Saliency",
    "TextExplainer",
    "demo_model",
    "explain",
]
